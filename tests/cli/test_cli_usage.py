"""Usage errors and help, as a user meets them: the real CLI in a subprocess."""

from __future__ import annotations

import pytest
from conftest import run_cli

from halubench import __version__


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"halubench {__version__}"


@pytest.mark.parametrize("args, message", [
    (("run", "--jduge", "lexical"), "No such option: --jduge"),
    (("run", "--task", "halubench"), "Missing option '--judge'"),
    (("runn", "--judge", "lexical"), "No such command 'runn'"),
    (("run", "--judge", "lexical", "--limit", "abc"), "Invalid value for '--limit'"),
])
def test_usage_errors_show_usage_and_exit_2(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Usage: halubench" in result.stderr
    assert message in " ".join(result.stderr.split())  # the error panel wraps long lines
    assert not (tmp_path / "results").exists()


def test_help_shows_no_type_beside_flags(tmp_path):
    for args in (("--help",), ("run", "--help")):
        result = run_cli(*args, cwd=tmp_path, env={"COLUMNS": "100"})
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout
        assert "--help" in result.stdout
    assert "<int>" in result.stdout  # options that take a value still show its type
