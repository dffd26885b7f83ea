"""The inference configuration saved with the weights is what evaluation and upscaling apply; arguments override it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from iseebetter_lib.config import FlowConfig, InferenceConfig, preset
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import generator_file_state, load_generator_file, save_checkpoint
from synthetic import moving_clip, write_frames

SAVED = InferenceConfig(flow=FlowConfig(alpha=0.05), boundary="reflect")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """The same random tiny generator saved with the inference configuration above and in the old format."""
    cfg = preset("tiny").model
    torch.manual_seed(0)
    generator = build_generator(cfg)
    folder = tmp_path_factory.mktemp("weights")
    new = save_checkpoint(folder / "generator.pt", generator_file_state(generator.state_dict(), cfg, 1, SAVED))
    old = save_checkpoint(folder / "old.pt", generator_file_state(generator.state_dict(), cfg, 1))
    training = save_checkpoint(folder / "step.pt", {
        "generator": generator.state_dict(), "model_config": dataclasses.asdict(cfg),
        "config": {"data": {"flow": dataclasses.asdict(SAVED.flow), "boundary": "reflect", "future_frames": True}}})
    root = folder / "clips"
    write_frames(root / "moving", moving_clip())
    return {"new": new, "old": old, "training": training, "root": root, "cfg": cfg}


def test_saved_configuration_is_read_back(weights):
    assert load_generator_file(weights["new"]).inference_cfg == SAVED
    assert load_generator_file(weights["old"]).inference_cfg is None  # older generator.pt: defaults apply
    assert load_generator_file(weights["training"]).inference_cfg == SAVED  # from the data config it trained with


def _evaluate(path, root, **overrides):
    from iseebetter_lib.evaluation import EvalOptions, evaluate

    return evaluate(EvalOptions("folder", root, baselines=(), progress=False), path, overrides)


def test_evaluate_applies_the_saved_configuration_and_arguments_override_it(weights, capsys):
    new = _evaluate(weights["new"], weights["root"])
    old = _evaluate(weights["old"], weights["root"])
    assert new["inference_config"]["boundary"] == "reflect" and new["inference_config"]["flow"]["alpha"] == 0.05
    assert old["inference_config"]["boundary"] == "copy" and old["inference_config"]["flow"]["alpha"] == 0.012
    assert capsys.readouterr().err.count("overrides") == 0
    per_new, per_old = (r["clips"]["moving"]["per_frame"]["psnr_y"] for r in (new, old))
    assert per_new != per_old  # the saved window rule and flow change the pixels
    assert _evaluate(weights["training"], weights["root"])["clips"]["moving"]["per_frame"]["psnr_y"] == per_new
    over = _evaluate(weights["new"], weights["root"], boundary="copy", flow=FlowConfig())
    err = capsys.readouterr().err
    assert "boundary 'copy' given overrides" in err and "flow.alpha 0.012" in err
    assert all(line.startswith("note: ") for line in err.strip().splitlines())
    assert over["clips"]["moving"]["per_frame"]["psnr_y"] == per_old


def test_upscale_applies_the_saved_configuration(weights, tmp_path):
    from iseebetter_lib.data import degrade
    from iseebetter_lib.data.readers import read_frame_folder
    from iseebetter_lib.inference import Engine, upscale
    from iseebetter_lib.inference.upscaling import default_precision

    lr = degrade(read_frame_folder(weights["root"] / "moving"), 4)
    write_frames(tmp_path / "lr", lr)
    outputs = {}
    for name in ("new", "old"):
        upscale(tmp_path / "lr", tmp_path / name, weights=weights[name], device="cpu", progress=False)
        outputs[name] = read_frame_folder(tmp_path / name)
    loaded = load_generator_file(weights["new"])
    # precision is how to run here, not how the model was trained: the saved default gives way to upscale's own
    run_here = dataclasses.replace(SAVED, device="cpu", precision=default_precision(torch.device("cpu")))
    expected = np.stack(list(Engine(loaded.generator, loaded.model_cfg, run_here).clip(lr)))
    np.testing.assert_array_equal(outputs["new"], expected)
    assert not np.array_equal(outputs["new"], outputs["old"])


def test_frame_subset_equals_whole_clip_under_a_saved_window_rule(weights):
    """Engine.frames (each frame from its own window) agrees with the stream for reflect and past-only windows."""
    from iseebetter_lib.data import degrade
    from iseebetter_lib.data.readers import read_frame_folder
    from iseebetter_lib.inference import Engine

    lr = degrade(read_frame_folder(weights["root"] / "moving"), 4)
    loaded = load_generator_file(weights["new"])
    for cfg in (dataclasses.replace(SAVED, device="cpu"), dataclasses.replace(SAVED, device="cpu",
                                                                              future_frames=False)):
        engine = Engine(loaded.generator, loaded.model_cfg, cfg)
        whole = list(engine.clip(lr))
        for t, frame in zip([0, 3], engine.frames(lr, [0, 3])):
            np.testing.assert_array_equal(frame, whole[t])


def test_explicit_runtime_arguments_override_only_with_a_note_when_saved(capsys):
    from iseebetter_lib.inference.settings import resolve_inference_config

    cfg = resolve_inference_config(None, {"precision": "bf16"}, {"tile": "auto", "device": "cpu"})
    assert (cfg.precision, cfg.tile, cfg.device) == ("bf16", "auto", "cpu")
    saved = InferenceConfig(tile="32")
    assert resolve_inference_config(saved, {}, {"tile": "auto"}).tile == "32"  # a deliberately saved tile wins
    assert resolve_inference_config(saved, {"tile": 16}, {"tile": "auto"}, source="g.pt").tile == "16"
    assert capsys.readouterr().err.strip() == "note: tile '16' given overrides '32' saved in g.pt"


def test_evaluation_and_upscale_read_videos_and_folders_alike(tmp_path):
    """One reader: a video clip beside a frame folder is an evaluation clip; open_frames streams what read_frames
    returns."""
    from iseebetter_lib.data.eval_sets import EvalSet
    from iseebetter_lib.data.readers import open_frames, read_frames
    from iseebetter_lib.evaluation import EvalOptions, evaluate
    from iseebetter_lib.inference.writer import open_output

    root = tmp_path / "clips"
    write_frames(root / "still", moving_clip(3, seed=3))
    with open_output(root / "moving.mp4", 25) as writer:
        for frame in moving_clip(4, seed=4):
            writer.write(frame)
    clips = EvalSet("folder", root, frame_step=2)
    assert [name for name, _ in clips.sources] == ["still", "moving"] and clips.frame_counts() == [2, 2]
    frames, rate, n = open_frames(root / "moving.mp4")
    np.testing.assert_array_equal(np.stack(list(frames)), read_frames(root / "moving.mp4"))
    assert (rate, n) == (25, 4)
    result = evaluate(EvalOptions("folder", root, method="bicubic", progress=False))
    assert {c: v["frames"] for c, v in result["clips"].items()} == {"still": 3, "moving": 4}


def test_bf16_on_a_cpu_takes_the_fast_path_and_stays_close_to_fp32():
    """--precision bf16 on a CPU runs models.fastpath (channels_last, batched neighbour branch); fp32 runs the
    original graph. The tiny model's frames differ by a few grey levels at most."""
    from iseebetter_lib.inference.engine import Engine
    from iseebetter_lib.models.fastpath import FastGenerator

    torch.manual_seed(0)
    cfg = preset("tiny")
    generator = build_generator(cfg.model).eval()
    clip = moving_clip(4, 32)
    exact = Engine(generator, cfg.model, InferenceConfig(device="cpu"))
    fast = Engine(generator, cfg.model, InferenceConfig(device="cpu", precision="bf16"))
    assert exact.fast is None and isinstance(fast.fast, FastGenerator)
    a = np.stack(list(exact.clip(clip))).astype(int)
    b = np.stack(list(fast.clip(clip))).astype(int)
    assert a.shape == b.shape == (4, 128, 128, 3)
    assert np.abs(a - b).max() <= 3 and np.abs(a - b).mean() < 0.5
