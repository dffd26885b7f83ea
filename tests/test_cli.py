"""The `iseebetter` command as a user meets it: help, version, and one-line errors with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from iseebetter_lib import __version__
from iseebetter_lib.cli import SUBCOMMANDS, main


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iseebetter_lib", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.mark.slow
def test_help_lists_every_subcommand():
    result = run_cli("--help")
    assert result.returncode == 0
    for _, name in SUBCOMMANDS:
        assert name in result.stdout
    assert "Vid4" in result.stdout


@pytest.mark.parametrize("name", [name for _, name in SUBCOMMANDS])
def test_each_subcommand_explains_itself(name, capsys):
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: iseebetter " + name)
    assert len(out.splitlines()) > 5


@pytest.mark.slow
def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and __version__ in result.stdout


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "usage: iseebetter" in capsys.readouterr().err


@pytest.mark.slow
def test_unknown_command_is_an_argparse_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr


@pytest.mark.slow
def test_user_errors_are_one_line_without_traceback(tmp_path):
    result = run_cli("upscale", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "out.mp4"), "--method",
                     "bicubic")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("iseebetter: error:") and "missing.mp4" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.slow
def test_train_rejects_an_unknown_preset(tmp_path):
    result = run_cli("train", "--preset", "huge", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert "huge" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
