"""Training: exact resume (with a GAN step), schedules, the D-then-fresh-G step, logs, refusals and the CLI."""

from __future__ import annotations

import argparse
import csv
import os

import numpy as np
import pytest
import torch

from iseebetter_lib.config import LossWeights, preset
from iseebetter_lib.models.checkpoints import load_checkpoint, load_generator
from iseebetter_lib.data import TrainingDataset
from iseebetter_lib.errors import UserError
from iseebetter_lib.models import Discriminator, build_generator
from iseebetter_lib.training import command, generator_lr_factor, train
from iseebetter_lib.training.logs import read_log
from iseebetter_lib.training.outputs import prune_checkpoints
from iseebetter_lib.training.steps import TrainingParts, gan_step
from test_distributed import real_clips


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _cfg(out_dir, cache, **overrides):
    values = {"train.out_dir": str(out_dir), "data.cache_dir": str(cache), "data.patch_size": 12,
              "train.device": "cpu", "train.pretrain_steps": 1, "train.gan_steps": 3, "train.log_every": 1}
    values.update(overrides)
    return preset("tiny").override(values)


@pytest.fixture(scope="module")
def clips():
    return real_clips()


def _data(cfg, clips):
    """The real TrainingDataset on small real clips (the embedded set takes a minute to build: too slow here)."""
    return TrainingDataset(cfg.data, "train", seed=cfg.train.seed, clips=clips, progress=False)


def _states_equal(a: dict, b: dict) -> None:
    for net in ("generator", "discriminator"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), (net, key)
    for opt in ("g_optimizer", "d_optimizer"):
        for pid, slot in a[opt]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[opt]["state"][pid][name])), (opt, name)


@pytest.mark.slow
def test_resume_continues_bit_for_bit(tmp_path, data_cache, clips):
    straight_cfg = _cfg(tmp_path / "straight", data_cache)
    straight = train(straight_cfg, progress=False, dataset=_data(straight_cfg, clips))
    assert [r["stage"] for r in straight.history] == ["pretrain", "gan", "gan", "gan"]

    split_cfg = _cfg(tmp_path / "split", data_cache)
    first = train(split_cfg, progress=False, dataset=_data(split_cfg, clips), max_steps=2)  # 1 pretrain + 1 GAN
    assert first.step == 2 and first.checkpoint.name == "step_0000002.pt"
    # A crash after logging step 3 but before its checkpoint: the resumed run must not duplicate that row.
    with first.log_csv.open("a") as fh:
        fh.write("3,gan,0,99.0\n")
    second = train(split_cfg, resume=True, progress=False, dataset=_data(split_cfg, clips))
    assert second.step == 4 and [r["step"] for r in second.history] == [3, 4]

    a, b = load_checkpoint(straight.checkpoint), load_checkpoint(second.checkpoint)
    assert a["step"] == b["step"] == 4 and b["stage"] == "gan"
    _states_equal(a, b)
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])
    rows = read_log(second.log_csv)
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    for mine, ref in zip(rows, read_log(straight.log_csv)):
        assert mine["loss"] == pytest.approx(ref["loss"], rel=1e-12) and mine["stage"] == ref["stage"]
    # convenience files: last.pt is the final state; generator.pt loads for inference
    assert load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")["step"] == 4
    gen, model_cfg = load_generator(tmp_path / "split" / "generator.pt")
    assert model_cfg == split_cfg.model
    assert torch.equal(gen.state_dict()["output.conv.weight"], b["generator"]["output.conv.weight"])
    # nothing left to do: resuming a finished run returns its checkpoint and trains nothing
    again = train(split_cfg, resume=True, progress=False, dataset=_data(split_cfg, clips))
    assert again.step == 4 and again.history == [] and again.checkpoint.name == "step_0000004.pt"


def test_history_losses_and_learning_rates(tmp_path, data_cache, clips):
    cfg = _cfg(tmp_path / "run", data_cache, **{"train.pretrain_steps": 4, "train.gan_steps": 2,
                                                  "train.lr": 1e-3, "train.checkpoint_every": 3})
    result = train(cfg, progress=False, dataset=_data(cfg, clips))
    lrs = [r["lr"] for r in result.history]
    assert lrs == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-3, 1e-4])
    gan = result.history[-1]
    for key in ("pixel", "perceptual", "adversarial", "tv", "d_loss", "d_hr", "d_sr", "seconds_per_step"):
        assert isinstance(gan[key], float)
    assert gan["loss"] == pytest.approx(gan["pixel"] + gan["perceptual"] + gan["adversarial"] + gan["tv"],
                                        rel=1e-5)
    assert 0 < gan["d_hr"] < 1 and 0 < gan["d_sr"] < 1
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert names == ["last.pt", "step_0000003.pt", "step_0000006.pt"]
    with result.log_csv.open() as fh:
        header = next(csv.reader(fh))
    assert header[:4] == ["step", "stage", "epoch", "loss"]
    assert (tmp_path / "run" / "tensorboard").is_dir()


def test_lr_factor_restarts_each_stage():
    t = preset("tiny").train
    t.pretrain_steps, t.gan_steps, t.lr_decay_at = 10, 4, 0.5
    assert [generator_lr_factor(s, t) for s in range(14)] == [1.0] * 5 + [0.1] * 5 + [1.0] * 2 + [0.1] * 2
    t.lr_decay_at = 1.0
    assert {generator_lr_factor(s, t) for s in range(14)} == {1.0}
    t.pretrain_steps, t.lr_decay_at = 1, 0.5  # a one-step stage runs at the full lr
    assert generator_lr_factor(0, t) == 1.0


def test_gan_step_scores_sr_with_the_updated_discriminator():
    """D sees HR and SR.detach(), steps, and only then scores SR again (with gradient) for G's loss."""
    from iseebetter_lib.losses import DiscriminatorLoss, GeneratorLoss

    cfg = preset("tiny")
    torch.manual_seed(0)
    G, Dnet = build_generator(cfg.model), Discriminator()
    calls = []
    first_weight = Dnet.net[0].weight

    def record(module, inputs, output):
        calls.append((inputs[0].requires_grad, first_weight.detach().clone()))

    Dnet.register_forward_hook(record)
    weights = {"pixel": 1.0, "perceptual": 0.0, "adversarial": 1e-3, "tv": 2e-8}
    loss_cfg = cfg.train.loss
    loss_cfg.weights = LossWeights(**weights)
    parts = TrainingParts(generator=G, discriminator=Dnet, d_plain=Dnet, g_opt=torch.optim.Adam(G.parameters(), 1e-3),
                          d_opt=torch.optim.Adam(Dnet.parameters(), 1e-3), g_loss=GeneratorLoss(loss_cfg),
                          d_loss=DiscriminatorLoss(loss_cfg))
    batch = {"target": torch.rand(2, 3, 8, 8), "neighbours": torch.rand(2, 2, 3, 8, 8),
             "flows": torch.zeros(2, 2, 2, 8, 8), "hr": torch.rand(2, 3, 32, 32)}
    g_before = [p.detach().clone() for p in G.parameters()]
    row = gan_step(parts, batch)
    assert [c[0] for c in calls] == [False, False, True]  # HR, SR.detach(), then SR with its graph
    assert torch.equal(calls[0][1], calls[1][1]) and not torch.equal(calls[1][1], calls[2][1])
    assert all(p.requires_grad for p in Dnet.parameters())  # unfrozen again after G's step
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))
    assert row["d_loss"] == pytest.approx(1 - row["d_hr"] + row["d_sr"], rel=1e-6)


def test_refusals(tmp_path, data_cache, clips):
    cfg = _cfg(tmp_path / "run", data_cache, **{"train.pretrain_steps": 1, "train.gan_steps": 0})
    with pytest.raises(UserError, match="no checkpoint to resume"):
        train(cfg, resume=True, progress=False, dataset=_data(cfg, clips))
    train(cfg, progress=False, dataset=_data(cfg, clips))
    with pytest.raises(UserError, match="already holds checkpoints"):
        train(cfg, progress=False, dataset=_data(cfg, clips))
    with pytest.raises(UserError, match="--resume and --overwrite"):
        train(cfg, resume=True, overwrite=True, progress=False, dataset=_data(cfg, clips))
    fresh = train(cfg, overwrite=True, progress=False, dataset=_data(cfg, clips))
    assert len(read_log(fresh.log_csv)) == 1
    other = cfg.override({"model.base_filter": 8})
    with pytest.raises(UserError, match="base_filter: checkpoint 16, requested 8"):
        train(other, resume=True, progress=False, dataset=_data(other, clips))
    with pytest.warns(UserWarning, match="ignored on CPU"):
        train(cfg.override({"train.precision": "fp16"}), overwrite=True, progress=False, dataset=_data(cfg, clips))


def test_bf16_on_a_cpu_trains_through_the_fast_path_near_the_fp32_trajectory(tmp_path, clips):
    """CPU bf16 training (models.fastpath, live module converted in place): finite losses within bf16 noise of
    fp32's, and a checkpoint with the same keys that loads into the plain generator."""
    cfg = preset("tiny").override({"train.out_dir": str(tmp_path / "fp32"), "train.pretrain_steps": 3,
                                   "train.gan_steps": 0})
    exact = train(cfg, progress=False, dataset=_data(cfg, clips))
    bf16_cfg = cfg.override({"train.out_dir": str(tmp_path / "bf16"), "train.precision": "bf16"})
    fast = train(bf16_cfg, progress=False, dataset=_data(bf16_cfg, clips))
    a = [r["pixel"] for r in exact.history]
    b = [r["pixel"] for r in fast.history]
    assert len(a) == len(b) == 3 and all(np.isfinite(b))
    assert np.allclose(a, b, rtol=0.05)
    generator, _ = load_generator(fast.generator)
    assert set(generator.state_dict()) == set(load_generator(exact.generator)[0].state_dict())


@pytest.mark.slow
def test_train_compile_runs_the_compiled_fast_path_near_the_eager_one(tmp_path, clips):
    """train.compile (CPU bf16): the generator's step runs under torch.compile, its losses within bf16 noise of the
    eager fast path's, the same seed giving the same numbers twice; elsewhere it is ignored with a warning."""
    import iseebetter_lib.models.fastpath as fastpath

    cfg = preset("tiny").override({"train.out_dir": str(tmp_path / "eager"), "train.pretrain_steps": 3,
                                   "train.gan_steps": 0, "train.precision": "bf16", "train.device": "cpu"})
    eager = train(cfg, progress=False, dataset=_data(cfg, clips))
    modes = []
    real = fastpath.FastGenerator.__init__

    def spy(self, generator, mode):
        real(self, generator, mode)
        modes.append(self.mode.name)

    runs = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fastpath.FastGenerator, "__init__", spy)
        for k in range(2):
            c = cfg.override({"train.out_dir": str(tmp_path / f"compiled{k}"), "train.compile": True})
            runs.append(train(c, progress=False, dataset=_data(c, clips)))
    assert modes == ["bf16-cl-compile"] * 2
    a = [r["pixel"] for r in eager.history]
    b, b2 = ([r["pixel"] for r in run.history] for run in runs)
    assert len(b) == 3 and np.allclose(a, b, rtol=0.05) and b == b2
    fp32 = cfg.override({"train.out_dir": str(tmp_path / "fp32"), "train.precision": "fp32", "train.compile": True,
                         "train.pretrain_steps": 1})
    with pytest.warns(UserWarning, match="train.compile applies to bf16 training on a CPU"):
        train(fp32, progress=False, dataset=_data(fp32, clips))


def _parser():
    parser = argparse.ArgumentParser(prog="iseebetter")
    command.register(parser.add_subparsers())
    return parser


def test_cli_flags_map_onto_the_configuration(tmp_path):
    (tmp_path / "c.yaml").write_text("train:\n  lr: 0.002\nmodel:\n  nFrames: 3\n")
    args = _parser().parse_args([
        "train", "--preset", "tiny", "--config", str(tmp_path / "c.yaml"), "--set", "train.seed=7",
        "--set", "loss.weights.tv=0", "--steps", "5", "--gan-steps", "2", "--batch-size", "4", "--out", "x",
        "--device", "cpu", "--precision", "bf16", "--data-root", "/d", "--data-source", "folder",
        "--vgg-weights", "v.pth", "--allow-random-vgg"])
    cfg = command.build_config(args)
    t = cfg.train
    assert (t.lr, t.seed, t.pretrain_steps, t.gan_steps, t.batch_size, t.out_dir, t.device, t.precision) == (
        0.002, 7, 5, 2, 4, "x", "cpu", "bf16")
    assert (cfg.data.root, cfg.data.source, t.loss.vgg_weights, t.loss.allow_random_vgg) == (
        "/d", "folder", "v.pth", True)
    assert t.loss.weights.tv == 0.0
    assert command.build_config(_parser().parse_args(["train"])).model == preset("compact").model
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "--resume", "--overwrite"])
    with pytest.raises(UserError, match="KEY=VALUE"):
        command.build_config(_parser().parse_args(["train", "--set", "train.lr"]))
    with pytest.raises(UserError, match="unknown configuration key"):
        command.build_config(_parser().parse_args(["train", "--set", "train.nope=1"]))


def test_cli_trains_and_resumes(tmp_path, data_cache, clips, capsys):
    import cv2

    root = tmp_path / "frames"
    for clip in clips:  # a `folder` source of real frames
        (root / clip.id).mkdir(parents=True)
        for i, frame in enumerate(clip.hr[:5]):
            cv2.imwrite(str(root / clip.id / f"{i:04d}.png"), frame[:, :, ::-1])
    out = tmp_path / "cli"
    base = ["train", "--preset", "tiny", "--out", str(out), "--steps", "2", "--gan-steps", "0", "--device", "cpu",
            "--patch-size", "12", "--data-source", "folder", "--data-root", str(root),
            "--set", f"data.cache_dir={data_cache}", "--no-progress"]
    args = _parser().parse_args(base + ["--max-steps", "1"])
    assert args.run(args) == 0
    assert "step_0000001.pt" in capsys.readouterr().out
    args = _parser().parse_args(base + ["--resume"])
    assert args.run(args) == 0
    assert "step_0000002.pt" in capsys.readouterr().out
    args = _parser().parse_args(base)
    with pytest.raises(UserError, match="--resume"):
        args.run(args)


def test_init_weights_starts_the_generator_from_a_trained_one(tmp_path, data_cache, clips):
    source_cfg = _cfg(tmp_path / "source", data_cache, **{"train.gan_steps": 0, "train.pretrain_steps": 2})
    source = train(source_cfg, progress=False, dataset=_data(source_cfg, clips))
    trained, _ = load_generator(source.checkpoint)
    # lr 0 (as near as Adam allows): after one step the fine-tuned G still equals its starting weights.
    tune_cfg = _cfg(tmp_path / "tune", data_cache, **{"train.init_weights": str(source.checkpoint),
                                                      "train.pretrain_steps": 1, "train.gan_steps": 0,
                                                      "train.lr": 1e-30})
    tuned = train(tune_cfg, progress=False, dataset=_data(tune_cfg, clips))
    tuned_g, _ = load_generator(tuned.checkpoint)
    fresh_cfg = _cfg(tmp_path / "fresh", data_cache, **{"train.pretrain_steps": 1, "train.gan_steps": 0,
                                                        "train.lr": 1e-30})
    fresh_g, _ = load_generator(train(fresh_cfg, progress=False, dataset=_data(fresh_cfg, clips)).checkpoint)
    for key, value in trained.state_dict().items():
        assert torch.allclose(tuned_g.state_dict()[key], value, atol=1e-20), key
    assert not all(torch.equal(fresh_g.state_dict()[k], v) for k, v in trained.state_dict().items())


def test_init_weights_of_another_configuration_is_refused(tmp_path, data_cache, clips):
    source_cfg = _cfg(tmp_path / "source", data_cache, **{"train.gan_steps": 0})
    source = train(source_cfg, progress=False, dataset=_data(source_cfg, clips))
    other = _cfg(tmp_path / "other", data_cache, **{"train.init_weights": str(source.checkpoint),
                                                    "model.base_filter": 24})
    with pytest.raises(UserError, match="base_filter: checkpoint 16, requested 24"):
        train(other, progress=False, dataset=_data(other, clips))


def test_old_step_checkpoints_are_pruned(tmp_path, data_cache, clips):
    cfg = _cfg(tmp_path / "run", data_cache, **{"train.pretrain_steps": 5, "train.gan_steps": 0,
                                                  "train.checkpoint_every": 1, "train.keep_checkpoints": 2})
    result = train(cfg, progress=False, dataset=_data(cfg, clips))
    folder = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt", "step_0000004.pt", "step_0000005.pt"]
    assert os.path.samefile(folder / "last.pt", result.checkpoint) or torch.equal(
        load_checkpoint(folder / "last.pt")["generator"]["output.conv.weight"],
        load_checkpoint(result.checkpoint)["generator"]["output.conv.weight"])
    # a resumed, longer run keeps pruning; 0 keeps every step checkpoint
    longer = cfg.override({"train.pretrain_steps": 7, "train.keep_checkpoints": 0})
    train(longer, resume=True, progress=False, dataset=_data(longer, clips))
    assert sorted(p.name for p in folder.iterdir()) == [
        "last.pt", "step_0000004.pt", "step_0000005.pt", "step_0000006.pt", "step_0000007.pt"]


def test_pruning_never_deletes_what_last_points_to(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for step in (1, 2, 3, 4):
        (folder / f"step_{step:07d}.pt").write_bytes(str(step).encode())
    os.link(folder / "step_0000002.pt", folder / "last.pt")  # e.g. an older run's last.pt
    (folder / ".step_0000005.pt.abc.part.pt").write_bytes(b"partial")  # an atomic write in progress: not ours
    deleted = prune_checkpoints(tmp_path, keep=1)
    assert sorted(p.name for p in deleted) == ["step_0000001.pt", "step_0000003.pt"]
    assert sorted(p.name for p in folder.iterdir()) == [
        ".step_0000005.pt.abc.part.pt", "last.pt", "step_0000002.pt", "step_0000004.pt"]
    assert prune_checkpoints(tmp_path, keep=0) == []


@pytest.mark.parametrize("flags, key", [
    (["--set", "loss.weights.tv=abc"], "train.loss.weights.tv"), (["--num-workers", "-1"], "data.num_workers"),
    (["--checkpoint-every", "-1"], "train.checkpoint_every"), (["--set", "train.lr=nan"], "train.lr"),
    (["--set", "data.flow.ratio=1.2"], "data.flow.ratio"), (["--log-every", "0"], "train.log_every"),
])
def test_cli_rejects_bad_values_before_any_work(tmp_path, capsys, flags, key):
    from iseebetter_lib.cli import main

    out = tmp_path / "run"
    assert main(["train", "--preset", "tiny", "--out", str(out), "--no-progress", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"iseebetter: error: {key}=") and "\n" not in err
    assert not out.exists()
