"""Long evaluations: per-frame results on disk, an interrupted run resumed without rescoring, a time estimate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from iseebetter_lib.config import preset
from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation import EvalOptions, evaluate, results_table
from iseebetter_lib.inference.engine import Engine
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import LoadedGenerator
from synthetic import moving_clip, write_frames


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    write_frames(root / "a", moving_clip(4, seed=1))
    write_frames(root / "b", moving_clip(4, seed=2))
    cfg = preset("tiny").model
    torch.manual_seed(0)
    return root, build_generator(cfg).eval(), cfg


def _run(setup, log, precision=None, **kw):
    root, generator, cfg = setup
    return evaluate(EvalOptions("folder", root, progress=False, results_log=log, **kw),
                    LoadedGenerator(generator, cfg, None), {"precision": precision})


def _scores(result):
    return {c: v["per_frame"] for c, v in result["clips"].items()}, result["average"], result["baselines"]


def test_interrupted_run_resumes_without_rescoring_finished_frames(setup, tmp_path, monkeypatch):
    full = _run(setup, tmp_path / "full.jsonl")
    calls = []
    frame = Engine.frame

    def counted(self, target, neighbours):
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt  # as Ctrl-C in the middle of the run
        calls.append(1)
        return frame(self, target, neighbours)

    monkeypatch.setattr(Engine, "frame", counted)
    log = tmp_path / "run.jsonl"
    stop_after = 5  # all of clip a (4 frames) and the first frame of clip b
    with pytest.raises(KeyboardInterrupt):
        _run(setup, log)
    rows = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    assert sum(r["run_name"] == "model" for r in rows) == 5
    calls.clear()
    stop_after = None
    resumed = _run(setup, log, resume=True)
    assert len(calls) == 3  # only frames 1..3 of clip b were computed again
    assert _scores(resumed) == _scores(full)
    assert results_table(resumed) == results_table(full)
    calls.clear()
    assert _scores(_run(setup, log, resume=True)) == _scores(full) and calls == []  # nothing left to do


def test_results_of_another_run_or_an_existing_file_are_refused(setup, tmp_path):
    log = tmp_path / "run.jsonl"
    _run(setup, log, max_frames=2)
    with pytest.raises(UserError, match="run.jsonl: written by a different run \\(frames"):
        _run(setup, log, max_frames=3, resume=True)
    with pytest.raises(UserError, match="already exist .*--resume"):
        _run(setup, log, max_frames=2)
    with log.open("a") as fh:
        fh.write('{"run_name": "model", "clip": "a", "fra')  # torn by a kill mid-write
    assert _run(setup, log, max_frames=2, resume=True)["average"]["frames"] == 4


def test_cli_resume_and_time_estimate(setup, tmp_path, capsys):
    from iseebetter_lib.cli import main
    from iseebetter_lib.models.checkpoints import generator_file_state, save_checkpoint

    root, generator, cfg = setup
    weights = save_checkpoint(tmp_path / "g.pt", generator_file_state(generator.state_dict(), cfg))
    out = tmp_path / "r.json"
    argv = ["evaluate", "--dataset", "folder", "--root", str(root), "--weights", str(weights), "--json", str(out),
            "--max-frames", "2", "--no-baselines"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "estimate: " in err and "for 4 frames" in err
    assert (tmp_path / "r.frames.jsonl").is_file()
    first = json.loads(out.read_text())
    out.unlink()
    assert main(argv + ["--resume", "--quiet"]) == 0
    assert json.loads(out.read_text())["clips"] == first["clips"]
    assert main(["evaluate", "--method", "bicubic", "--resume"]) == 2
    assert "--resume: needs --json or --results-dir" in capsys.readouterr().err


def test_bf16_runs_on_cpu(setup):
    root, generator, cfg = setup
    fp32 = _run(setup, None, max_frames=2, baselines=())
    bf16 = _run(setup, None, max_frames=2, baselines=(), precision="bf16")
    assert bf16["inference_config"]["precision"] == "bf16"
    assert np.isfinite(bf16["average"]["psnr_y"])
    assert abs(bf16["average"]["psnr_y"] - fp32["average"]["psnr_y"]) < 0.5


def test_a_log_written_before_hf_ratio_resumes_with_it_missing(setup, tmp_path, monkeypatch):
    full = _run(setup, tmp_path / "full.jsonl")
    log = tmp_path / "old.jsonl"
    lines = (tmp_path / "full.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines[1:]]
    old = [r for r in rows if not (r["run_name"] == "model" and r["clip"] == "b" and r["frame"] >= 2)]
    for r in old:
        r.pop("hf_ratio")
    log.write_text("\n".join([lines[0]] + [json.dumps(r) for r in old]) + "\n")
    calls = []
    frame = Engine.frame
    monkeypatch.setattr(Engine, "frame", lambda self, *a: calls.append(1) or frame(self, *a))
    resumed = _run(setup, log, resume=True)
    assert len(calls) == 2  # only the frames missing from the log, not the ones lacking hf_ratio
    assert resumed["clips"]["b"]["per_frame"]["psnr_y"] == full["clips"]["b"]["per_frame"]["psnr_y"]
    assert resumed["clips"]["b"]["per_frame"]["hf_ratio"][2:] == full["clips"]["b"]["per_frame"]["hf_ratio"][2:]
    assert resumed["clips"]["b"]["hf_ratio"] is None and resumed["average"]["hf_ratio"] is None  # not a partial mean
    assert resumed["average"]["psnr_y"] == full["average"]["psnr_y"]
    assert full["average"]["hf_ratio"] > 0


def _damage_record(line: bytes) -> dict[str, bytes]:
    """Damaged forms of one per-frame record `line` (without its newline)."""
    row = json.loads(line)
    no_metrics = {k: row[k] for k in ("run_name", "clip", "frame")}
    return {
        "bare-number": b"3", "bare-string": b'"x"', "empty-list": b"[]", "null": b"null",
        "no-metrics": json.dumps(no_metrics).encode(),
        "string-metric": json.dumps({**row, "psnr_y": str(row["psnr_y"])}).encode(),
        "nan-metric": json.dumps({**row, "ssim_y": float("nan")}).encode(),  # json writes NaN, which we never do
        "bool-frame": json.dumps({**row, "frame": True}).encode(),
        "not-utf8": line.replace(b'"clip": "b"', b'"clip": "\xe9"'),
        "torn-then-ended": line[: len(line) // 2],
        "torn-last-line": line[: len(line) // 2],
    }


DAMAGES = tuple(_damage_record(b'{"run_name": "model", "clip": "b", "frame": 2, "psnr_y": 1.0, "ssim_y": 1.0, '
                               b'"psnr_rgb_orig": 1.0, "hf_ratio": 1.0}'))


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_line_is_skipped_with_one_warning_and_its_frame_scored_again(damage, setup, tmp_path,
                                                                              monkeypatch):
    full = _run(setup, tmp_path / "full.jsonl")
    lines = (tmp_path / "full.jsonl").read_bytes().splitlines()
    target = next(i for i, ln in enumerate(lines) if json.loads(ln).get("run_name") == "model"
                  and json.loads(ln)["clip"] == "b" and json.loads(ln)["frame"] == 2)
    record = lines.pop(target)
    where = len(lines) if damage == "torn-last-line" else 4  # the record's place: the end, or line 5
    lines.insert(where, _damage_record(record)[damage])
    log = tmp_path / "damaged.jsonl"
    log.write_bytes(b"\n".join(lines) + (b"" if damage == "torn-last-line" else b"\n"))
    calls = []
    frame = Engine.frame
    monkeypatch.setattr(Engine, "frame", lambda self, *a: calls.append(1) or frame(self, *a))
    with pytest.warns(UserWarning) as caught:
        resumed = _run(setup, log, resume=True)
    messages = [str(w.message) for w in caught if "damaged" in str(w.message)]
    assert messages == [f"{log}: line {where + 1} is damaged (not a complete record of a scored frame); skipped, "
                        "that frame is scored again"]
    assert len(calls) == 1  # only that frame, again
    assert _scores(resumed) == _scores(full)
    assert results_table(resumed) == results_table(full)
    calls.clear()
    with pytest.warns(UserWarning, match=f"line {where + 1} is damaged"):  # the line stays; the frame is logged
        assert _scores(_run(setup, log, resume=True)) == _scores(full) and calls == []


def test_many_damaged_lines_warn_a_few_times_then_once(setup, tmp_path, monkeypatch):
    full = _run(setup, tmp_path / "log.jsonl", max_frames=2)
    log = tmp_path / "log.jsonl"
    with log.open("ab") as fh:
        fh.write(b"\xff\xfe garbage\n" * 30)
    with pytest.warns(UserWarning) as caught:
        resumed = _run(setup, log, max_frames=2, resume=True)
    messages = [str(w.message) for w in caught if "damaged" in str(w.message)]
    first = len(full["clips"]) * 2 * 3 + 2  # header + records, then the garbage
    assert messages[:10] == [f"{log}: line {first + i} is damaged (not a complete record of a scored frame); "
                             "skipped, that frame is scored again" for i in range(10)]
    assert messages[10:] == [f"{log}: 20 more damaged lines (lines {first + 10}..{first + 29}) skipped, their "
                             "frames are scored again"]
    assert _scores(resumed) == _scores(full)


def test_required_metrics_of_a_record_are_those_every_log_has():
    from iseebetter_lib.evaluation.scoring import LATER_METRICS, METRICS
    from iseebetter_lib.evaluation.results_log import REQUIRED

    assert REQUIRED == tuple(m for m in METRICS if m not in LATER_METRICS)


def test_non_finite_metrics_resume_exactly(tmp_path):
    """A PSNR of identical frames is inf: the log keeps it (and nan), so a resumed mean is a clean run's."""
    import math

    from iseebetter_lib.evaluation.results_log import FrameLog

    metrics = {"psnr_y": math.inf, "ssim_y": 1.0, "psnr_rgb_orig": -math.inf, "hf_ratio": math.nan}
    log = FrameLog(tmp_path / "r.jsonl", {"method": "x"})
    log.append("x", "a", 0, metrics)
    log.close()
    with (tmp_path / "r.jsonl").open("a") as fh:  # a record of a log written before: non-finite values as null
        fh.write(json.dumps({"run_name": "x", "clip": "a", "frame": 1, "psnr_y": None, "ssim_y": 1.0,
                             "psnr_rgb_orig": 2.0}) + "\n")
    log = FrameLog(tmp_path / "r.jsonl", {"method": "x"}, resume=True)
    done = log.done("x", "a")
    log.close()
    assert done[0]["psnr_y"] == math.inf and done[0]["psnr_rgb_orig"] == -math.inf
    assert math.isnan(done[0]["hf_ratio"]) and math.isnan(done[1]["psnr_y"]) and done[1]["psnr_rgb_orig"] == 2.0
