"""The full profile's dry run (spec merge, GPU waiver, separate build dir, fixtures in the originals' layouts), the
published-weights lookup, the paper's full preset and the Table 3 helpers. The dry run itself is run by CI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from iseebetter_lib.book import ch07_table3, published_models
from iseebetter_lib.book.spec import load_book
from iseebetter_lib.config import preset
from iseebetter_lib.errors import UserError
from iseebetter_lib.data.home import data_home, weight_path
from iseebetter_lib.data.published import resolve_weights

from test_book import GOOD, make_book

REPO = Path(__file__).resolve().parents[1]

BOOK = """\
title: Fake book
author: tests
chapters:
  - {name: a_first, title: First}
  - {name: b_second, title: Second}
profiles:
  smoke:
    chapters:
      a_first: {timeout: 60, parameters: {out: "{build}/a.json"}}
      b_second: {timeout: 60, parameters: {out: "{build}/b.json"}}
  full:
    chapters:
      a_first:
        timeout: 6000
        requires_gpu: true
        parameters: {out: "{build}/a.json", steps: 5000, variant: {"x": 1, "y": 2}}
        dry_run: {timeout: 30, parameters: {steps: 2, variant: {"y": 3}}}
      b_second:
        timeout: 60
        parameters: {out: "{build}/b.json"}
        variants: {slow: {rate: 0.1}, fast: {rate: 2}}
        dry_run: {variants: [fast]}
"""


def test_dry_run_merges_small_parameters_waives_gpu_and_builds_apart(tmp_path):
    spec = load_book(root=make_book(tmp_path, book=BOOK, first=GOOD.replace("variant = None", "variant = {}")))
    real, dry = spec.plan("full"), spec.plan("full", dry_run=True)
    assert [r.output_name for r in real] == ["a_first", "b_second__slow", "b_second__fast"]
    assert [r.output_name for r in dry] == ["a_first", "b_second__fast"]  # the kept variants only
    assert real[0].requires_gpu and not dry[0].requires_gpu
    assert (real[0].timeout, dry[0].timeout, dry[1].timeout) == (6000, 30, 60)
    build = tmp_path.resolve() / "_build"
    assert real[0].parameters == {"out": str(build / "full/a.json"), "steps": 5000, "variant": {"x": 1, "y": 2},
                                  "profile": "full"}
    assert dry[0].parameters == {"out": str(build / "full-dry/a.json"), "steps": 2, "variant": {"x": 1, "y": 3},
                                 "profile": "full-dry"}
    assert spec.build_dir("full", dry_run=True) == build / "full-dry"


@pytest.mark.parametrize("block, match", [
    ("dry_run: {variants: [medium]}", "variants"),
    ("dry_run: {timeout: 0}", "timeout"),
    ("dry_run: {paramters: {}}", "dry_run"),
    ("dry_run: {parameters: {stepz: 2}}", "stepz"),
])
def test_bad_dry_run_blocks_name_the_culprit(tmp_path, block, match):
    book = BOOK.replace("dry_run: {variants: [fast]}", block)
    with pytest.raises(UserError, match=match):
        load_book(root=make_book(tmp_path, book=book, first=GOOD.replace("variant = None", "variant = {}")))


def test_book_full_profile_starts_from_rbpn_4x_and_its_dry_run_stays_apart():
    spec = load_book(root=REPO)
    real = {r.output_name: r for r in spec.plan("full")}
    dry = {r.output_name: r for r in spec.plan("full", dry_run=True)}
    assert set(r.chapter for r in dry.values()) == {c.name for c in spec.chapters}  # every chapter runs
    assert real["03_training"].requires_gpu and not any(r.requires_gpu for r in dry.values())
    for runs in (real, dry):
        assert runs["03_training"].parameters["overrides"]["train.init_weights"] == "RBPN_4x.pth"
        assert runs["04_ablation__all_four"].parameters["overrides"]["train.init_weights"] == "RBPN_4x.pth"
    assert dry["03_training"].parameters["overrides"]["train.precision"] == "bf16"  # merged, not replaced
    build = str(REPO / "_build" / "full-dry")
    for run in dry.values():
        for value in run.parameters.values():
            if isinstance(value, str) and "_build" in value:
                assert value.startswith(build), (run.output_name, value)


def test_published_weights_follow_the_data_home_and_name_fetch(tmp_path, monkeypatch):
    monkeypatch.setenv("ISEEBETTER_DATA", str(tmp_path))
    assert data_home() == tmp_path and data_home(tmp_path / "x") == tmp_path / "x"
    assert weight_path("RBPN_4x.pth") == tmp_path / "weights" / "RBPN_4x.pth"
    with pytest.raises(UserError, match="iseebetter fetch rbpn-4x"):
        resolve_weights("RBPN_4x.pth")
    from iseebetter_lib.models.checkpoints import load_generator

    with pytest.raises(UserError, match="iseebetter fetch rbpn-4x"):  # what training from the full preset meets
        load_generator(preset("full").train.init_weights)
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "RBPN_4x.pth").write_bytes(b"x")
    assert resolve_weights("RBPN_4x.pth") == tmp_path / "weights" / "RBPN_4x.pth"
    assert "iseebetter fetch iseebetter" in published_models.missing_line(published_models.published_status())


def test_full_preset_fine_tunes_rbpn_4x_for_four_epochs(tmp_path, monkeypatch):
    monkeypatch.setenv("ISEEBETTER_DATA", str(tmp_path))
    t = preset("full").train
    assert t.init_weights == "RBPN_4x.pth"  # found in the data home at training time
    assert (t.pretrain_steps, t.gan_steps, t.batch_size, t.lr, t.lr_decay_at) == (0, 4 * 64612 // 2, 2, 1e-4, 0.5)
    assert (t.loss.pixel, t.loss.perceptual, t.loss.adversarial, t.loss.tv) == ("mse", "vgg16", "mean", "sq")
    assert t.loss.weights.as_dict() == {"pixel": 1.0, "perceptual": 6e-3, "adversarial": 1e-3, "tv": 2e-8}
    paper = preset("full").override({"train.loss.perceptual": "vgg19", "train.loss.adversarial": "log",
                                     "train.loss.tv": "abs", "train.init_weights": None,
                                     "train.pretrain_steps": 200000})
    assert paper.train.init_weights is None and paper.train.loss.perceptual == "vgg19"


def test_fixtures_use_the_originals_layouts(tmp_path, monkeypatch):
    from iseebetter_lib.book import dryrun
    from iseebetter_lib.models.checkpoints import load_generator
    from iseebetter_lib.vgg import load_vgg_features

    dryrun._random_generators(tmp_path / "weights")
    raw = torch.load(tmp_path / "weights" / "RBPN_4x.pth", weights_only=True)
    assert all(k.startswith("module.") for k in raw)
    generator, cfg = load_generator(tmp_path / "weights" / "netG_epoch_4_1.pth")
    assert sum(p.numel() for p in generator.parameters()) == 12_771_943 and cfg.nFrames == 7
    dryrun._random_vgg(tmp_path / "torch" / "hub")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("ISEEBETTER_VGG_WEIGHTS", raising=False)
    for kind in ("vgg16", "vgg19"):
        assert load_vgg_features(kind).kind == kind  # found through torch hub's cache, not random


def _fake_result(psnr):
    clip = {"psnr_y": psnr, "ssim_y": 0.5, "psnr_rgb_orig": psnr - 1, "frames": 1, "frame_indices": [0]}
    return {"clips": {"calendar": clip}, "average": dict(clip)}


def test_table_rows_set_results_beside_the_paper():
    rows = published_models.table_rows({"bicubic": _fake_result(20.0), "published RBPN": _fake_result(24.0)}, "y")
    assert rows[0]["clip"] == "calendar" and rows[0]["published RBPN Y"] == "24.00/0.5000"
    assert rows[0]["paper iSeeBetter"] == "24.13/0.817" and rows[-1]["paper RBPN/6-PF"] == "27.12/0.818"
    rgb = published_models.table_rows({"bicubic": _fake_result(20.0)}, "rgb", paper=False)
    assert rgb[-1] == {"clip": "average", "bicubic RGB": "19.00"}
    partial = {"clips": {}, "average": _fake_result(21.0)["average"]}  # a result without this clip
    assert published_models.table_rows({"bicubic": _fake_result(20.0), "other": partial}, "y")[0]["other Y"] == "-"
    assert ch07_table3.should_run({"device": "cpu", "text": "x"}, False)[0] is False
    assert ch07_table3.should_run({"device": "cpu", "text": "x"}, True)[0] is True
    assert ch07_table3.should_run({"device": "cuda", "text": "x"}, False)[0] is True
