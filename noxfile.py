"""Test sessions. `nox` runs the default ones, exactly as CI does (.ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "halubench", "tests", "benchmarks", "noxfile.py")


@nox.session
def tests(session: nox.Session) -> None:
    """The fast suite: everything but the sessions below; no network, no GPU."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not vllm_cpu", *session.posargs)
