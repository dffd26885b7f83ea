"""Bad input at the command line (upscale, evaluate, train, book): each case exits non-zero with one line naming the
culprit, never a traceback, and leaves every file in the working folder as it was.

Cases call the CLI's `main(argv)` in-process (the same code path as the console script: an escaping exception would
fail the test as a traceback would); a few run as real subprocesses to pin the process-level behaviour."""

from __future__ import annotations

import os
import shutil

import pytest

from bad_inputs_support import Case, build_workspace, check_message, fingerprint, run_cli
from iseebetter_lib.cli import main

UP = ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--method", "bicubic")
EV = ("evaluate", "--dataset", "folder", "--root", "WS/frames", "--method", "bicubic", "--quiet")
TR = ("train", "--preset", "tiny", "--out", "WS/run", "--device", "cpu", "--no-progress", "--data-source", "folder",
      "--data-root", "WS/frames", "--patch-size", "8", "--steps", "1", "--gan-steps", "0", "--allow-random-vgg",
      "--set", "data.cache_dir=WS/cache")

CASES = [
    # upscale
    Case("upscale-missing-input", ("upscale", "WS/missing.mp4", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("missing.mp4",)),
    Case("upscale-text-as-video", ("upscale", "WS/notavideo.mp4", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("notavideo.mp4",)),
    Case("upscale-truncated-video", ("upscale", "WS/trunc.mp4", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("trunc.mp4", "truncated at frame", "--allow-truncated")),
    Case("upscale-existing-output", ("upscale", "WS/clip.mp4", "-o", "WS/out.mp4", "--method", "bicubic"),
         ("out.mp4", "already exists")),
    Case("upscale-model-without-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4"),
         ("no --weights given", "no_shipped_model.pt")),
    Case("upscale-garbage-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--weights", "WS/garbage.pt"),
         ("garbage.pt", "refused"), absent=("weights_only",)),
    Case("upscale-text-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--weights", "WS/text.pt"),
         ("text.pt",)),
    Case("upscale-missing-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--weights", "WS/nope.pt"),
         ("nope.pt",)),
    Case("upscale-folder-as-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--weights", "WS/empty"),
         ("empty",)),
    Case("upscale-max-frames-zero", UP + ("--max-frames", "0"), ("--max-frames",)),
    Case("upscale-max-frames-text", UP + ("--max-frames", "abc"), ("--max-frames",)),
    Case("upscale-negative-fps", UP + ("--fps", "-1"), ("--fps",)),
    Case("upscale-nan-fps", UP + ("--fps", "nan"), ("--fps",)),
    Case("upscale-negative-tile", UP + ("--tile", "-5"), ("--tile",)),
    Case("upscale-zero-memory-budget", UP + ("--memory-budget", "0"), ("--memory-budget",)),
    Case("upscale-fp16-on-cpu", UP + ("--precision", "fp16", "--device", "cpu"), ("fp16",)),
    Case("upscale-unknown-method", UP[:-2] + ("--method", "lanczos"), ("--method", "lanczos")),
    Case("upscale-unknown-extension", ("upscale", "WS/clip.mp4", "-o", "WS/new.xyz", "--method", "bicubic"),
         ("new.xyz", "extension")),
    Case("upscale-empty-frame-folder", ("upscale", "WS/empty", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("empty",)),
    # evaluate
    Case("evaluate-missing-root", ("evaluate", "--dataset", "folder", "--root", "WS/nowhere", "--method", "bicubic"),
         ("nowhere",)),
    Case("evaluate-empty-root", ("evaluate", "--dataset", "folder", "--root", "WS/empty", "--method", "bicubic"),
         ("empty",)),
    Case("evaluate-garbage-weights", EV[:5] + ("--weights", "WS/garbage.pt", "--quiet"), ("garbage.pt",),
         absent=("weights_only",)),
    Case("evaluate-neither-method-nor-weights", EV[:5] + ("--quiet",),
         ("no --weights given", "no shipped model", "no_shipped_model.pt")),
    Case("evaluate-negative-crop", EV + ("--crop", "-1"), ("--crop",)),
    Case("evaluate-zero-max-frames", EV + ("--max-frames", "0"), ("--max-frames",)),
    Case("evaluate-zero-frame-step", EV + ("--frame-step", "0"), ("--frame-step",)),
    Case("evaluate-zero-scale", EV + ("--scale", "0"), ("--scale",)),
    Case("evaluate-missing-list", EV + ("--list", "WS/nolist.txt"), ("nolist.txt",)),
    Case("evaluate-existing-json", EV + ("--json", "WS/results.json"), ("results.json", "already exists")),
    Case("evaluate-bad-tile", EV[:5] + ("--weights", "WS/garbage.pt", "--tile", "abc"), ("--tile",)),
    # train
    Case("train-unknown-key", TR + ("--set", "train.nonsense=1"), ("train.nonsense",)),
    Case("train-non-number-lr", TR + ("--set", "train.lr=abc"), ("train.lr",)),
    Case("train-set-without-equals", TR + ("--set", "train.lr"), ("train.lr",)),
    Case("train-missing-config", TR + ("--config", "WS/none.yml"), ("none.yml",)),
    Case("train-malformed-config", TR + ("--config", "WS/bad.yml"), ("bad.yml",)),
    Case("train-config-not-a-mapping", TR + ("--config", "WS/list.yml"), ("list.yml",)),
    Case("train-negative-steps", TR + ("--steps", "-1"), ("pretrain_steps",)),
    Case("train-zero-batch", TR + ("--batch-size", "0"), ("batch_size",)),
    Case("train-negative-lr", TR + ("--lr", "-1"), ("lr",)),
    Case("train-zero-patch", TR + ("--patch-size", "0"), ("patch_size",)),
    Case("train-zero-frames", TR + ("--set", "model.nFrames=0"), ("nFrames",)),
    Case("train-missing-data-root", TR + ("--data-root", "WS/nowhere"), ("nowhere",)),
    Case("train-resume-nothing", TR + ("--resume",), ("run", "no checkpoint to resume")),
    Case("train-garbage-vgg", TR[:-3] + ("--gan-steps", "1", "--vgg-weights", "WS/garbage.pt"),
         ("garbage.pt", "VGG"), absent=("weights_only",)),
    Case("train-flow-alpha-zero", TR + ("--set", "data.flow.alpha=0"), ("flow.alpha",)),
    Case("train-tv-weight-text", TR + ("--set", "loss.weights.tv=abc"), ("loss.weights.tv",)),
    Case("train-negative-workers", TR + ("--set", "data.num_workers=-1"), ("num_workers",)),
    Case("train-negative-checkpoint-every", TR + ("--set", "train.checkpoint_every=-1"), ("checkpoint_every",)),
    Case("train-huge-flow-alpha", TR + ("--set", "data.flow.alpha=1e36"), ("flow.alpha", "1e+36")),
    # numbers out of their declared range (upscale BOUNDS)
    *[Case(f"upscale-fps-{v}", UP + (f"--fps={v}",), ("--fps", "out of range", ">= 0.0001", "<= 1000"))
      for v in ("inf", "-inf", "1e300", "0", "0.00001", "1001")],
    *[Case(f"upscale-memory-budget-{v}", UP + ("--memory-budget", v), ("--memory-budget", "out of range"))
      for v in ("inf", "nan", "1e300")],
    Case("upscale-max-frames-huge", UP + ("--max-frames", "1" + "0" * 30), ("--max-frames", "out of range")),
    # text in another encoding, and files that are not regular files (SPECIAL: a folder beside the workspace)
    *[Case(f"train-config-{name.replace('.', '-')}", TR + ("--config", f"WS/{name}"), (name, "not UTF-8"))
      for name in ("latin1.yml", "utf16.json", "cp1252.yaml")],
    Case("train-config-dev-zero", TR + ("--config", "/dev/zero"), ("/dev/zero", "not a regular file",
                                                                    "character device")),
    Case("train-config-named-pipe", TR + ("--config", "WS/../special/pipe.yml"), ("pipe.yml", "named pipe")),
    Case("train-config-folder", TR + ("--config", "WS/empty"), ("empty", "not a regular file", "folder")),
    Case("book-yml-latin1", ("book", "run", "--root", "WS/latin1book"), ("book.yml", "not UTF-8", "line 1")),
    Case("evaluate-list-latin1", EV + ("--list", "WS/latin1.txt"), ("latin1.txt", "not UTF-8")),
    Case("evaluate-list-dev-zero", EV + ("--list", "/dev/zero"), ("/dev/zero", "character device")),
    Case("evaluate-list-named-pipe", EV + ("--list", "WS/../special/pipe.txt"), ("pipe.txt", "named pipe")),
    Case("upscale-dev-zero-input", ("upscale", "/dev/zero", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("/dev/zero", "not a regular file", "character device")),
    Case("upscale-named-pipe-input", ("upscale", "WS/../special/pipe.mp4", "-o", "WS/new.mp4", "--method",
                                      "bicubic"), ("pipe.mp4", "named pipe")),
    # book
    Case("book-unknown-profile", ("book", "run", "--profile", "huge"), ("huge",), one_line=False),
    Case("book-unknown-chapter", ("book", "run", "--only", "99_nothing", "--root", "REPO"), ("99_nothing",)),
    Case("book-root-without-book", ("book", "run", "--root", "WS/empty"), ("empty",)),
    Case("book-build-root-without-book", ("book", "build", "--root", "WS/empty"), ("empty",)),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The shared bad-input workspace, plus text in other encodings; named pipes live in a folder beside it
    (reading one to fingerprint the workspace would never end)."""
    ws = build_workspace(tmp_path_factory.mktemp("bad_inputs") / "ws")
    (ws / "latin1.yml").write_bytes("train:\n  lr: 0.001  # caf\u00e9\n".encode("latin-1"))
    (ws / "utf16.json").write_bytes('{"train": {"lr": 0.001}}'.encode("utf-16"))
    (ws / "cp1252.yaml").write_bytes("# \u201cquoted\u201d\ntrain: {}\n".encode("cp1252"))
    (ws / "latin1.txt").write_bytes("a\nb\u00e9\n".encode("latin-1"))
    (ws / "latin1book").mkdir()
    (ws / "latin1book" / "book.yml").write_bytes("title: R\u00e9sum\u00e9\n".encode("latin-1"))
    (ws.parent / "special").mkdir()
    for name in ("pipe.yml", "pipe.txt", "pipe.mp4"):
        os.mkfifo(ws.parent / "special" / name)
    return ws


def _argv(case: Case, ws) -> list[str]:
    from bad_inputs_support import REPO

    return [a.replace("WS", str(ws)).replace("REPO", str(REPO)) if a.startswith(("WS", "REPO")) or "=WS" in a
            else a for a in case.argv]


def _param(case: Case):
    marks = list(case.marks)
    if case.xfail:
        marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
    return pytest.param(case, id=case.id, marks=marks)


def test_the_table_is_wide():
    fronts = {c.argv[0] for c in CASES}
    assert len(CASES) >= 40 and fronts == {"upscale", "evaluate", "train", "book"}


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_fails_cleanly(case, workspace, capsys, monkeypatch):
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("ISEEBETTER_SHIPPED_WEIGHTS", str(workspace / "no_shipped_model.pt"))  # as without one
    before = fingerprint(workspace)
    try:
        try:
            code = main(_argv(case, workspace))
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        check_message(case, code, capsys.readouterr().err)
        after = fingerprint(workspace)
        changed = {k for k in before if after.get(k) != before[k]}
        assert not changed, f"pre-existing files changed or removed: {sorted(changed)}"
        created = {k for k in after if k not in before and not k.startswith("cache")}
        assert not created, f"files created by a failing run: {sorted(created)}"
    finally:  # a case that wrongly succeeds (an xfail) must not change the workspace of the next ones
        for rel in sorted(set(fingerprint(workspace)) - set(before), key=len):
            path = workspace / rel
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()


SUBPROCESS_CASES = [
    Case("process-truncated-video", ("upscale", "WS/trunc.mp4", "-o", "WS/new.mp4", "--method", "bicubic"),
         ("trunc.mp4", "truncated at frame")),
    Case("process-garbage-weights", ("upscale", "WS/clip.mp4", "-o", "WS/new.mp4", "--weights", "WS/garbage.pt"),
         ("garbage.pt",), absent=("weights_only",)),
]


@pytest.mark.parametrize("case", [_param(c) for c in SUBPROCESS_CASES])
def test_bad_input_in_a_real_process(case, workspace):
    before = fingerprint(workspace)
    result = run_cli(_argv(case, workspace), cwd=workspace)
    check_message(case, result.returncode, result.stderr)
    assert fingerprint(workspace) == before


def test_allow_truncated_keeps_the_frames_read_with_one_warning(workspace, tmp_path, capsys):
    out = tmp_path / "short.mp4"
    assert main(["upscale", str(workspace / "trunc.mp4"), "-o", str(out), "--method", "bicubic",
                 "--allow-truncated"]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("iseebetter: warning:") and "trunc.mp4" in err[0], err
    from iseebetter_lib.data.video import video_info

    assert 0 < video_info(out).n_frames < 60


def test_conversion_warnings_print_once_without_source_lines(workspace, tmp_path, capsys):
    assert main(["upscale", str(workspace / "grey"), "-o", str(tmp_path / "up"), "--method", "bicubic"]) == 0
    err = capsys.readouterr().err
    warns = [ln for ln in err.splitlines() if "grey image converted" in ln]
    assert len(warns) == 1 and warns[0].startswith("iseebetter: warning:"), err
    assert "warnings.warn" not in err and ".py:" not in err


def test_a_very_low_frame_rate_is_accepted_and_written_exactly(workspace, tmp_path):
    from iseebetter_lib.data.video import video_info

    out = tmp_path / "slow.mp4"
    assert main(["upscale", str(workspace / "grey"), "-o", str(out), "--method", "bicubic", "--fps", "0.0001"]) == 0
    assert video_info(out).fps == pytest.approx(0.0001, rel=1e-6)
