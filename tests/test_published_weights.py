"""Published checkpoints (RBPN_2x/4x/8x.pth, netG_epoch_4_1.pth) evaluate directly: configuration inferred from the
keys, weights-only load through the converter, both protocols scored. The files are random state dicts saved exactly
as the original code saves them: ``torch.save(model.state_dict())``, of an ``nn.DataParallel`` model or not."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from iseebetter_lib.cli import main
from iseebetter_lib.config import ModelConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import load_generator_file
from synthetic import moving_clip, write_frames

SHAPE = ("base_filter", "feat", "num_stages", "n_resblock", "nFrames", "scale_factor")


def original_file(path, cfg: ModelConfig, data_parallel: bool):
    """A random RBPN saved as the original's `torch.save(model.state_dict(), ...)` (no residual, its key names)."""
    torch.manual_seed(cfg.scale_factor)
    model = build_generator(ModelConfig(**{**cfg.__dict__, "residual": False}))
    if data_parallel:
        model = torch.nn.DataParallel(model)  # the original wraps the model: keys start with "module."
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    write_frames(root / "moving", moving_clip(3, size=96))
    return root


@pytest.mark.parametrize("name,scale,data_parallel", [("RBPN_2x.pth", 2, True), ("RBPN_8x.pth", 8, False),
                                                      ("netG_epoch_4_1.pth", 4, True)])
def test_published_checkpoint_evaluates_in_both_protocols(tmp_path, clips, name, scale, data_parallel):
    cfg = ModelConfig(base_filter=8, feat=4, num_stages=2, n_resblock=1, nFrames=3, scale_factor=scale)
    path = original_file(tmp_path / name, cfg, data_parallel)
    keys = list(torch.load(path, weights_only=True))
    assert keys[0] == ("module.feat0.conv.weight" if data_parallel else "feat0.conv.weight")
    loaded = load_generator_file(path)
    assert tuple(getattr(loaded.model_cfg, f) for f in SHAPE) == tuple(getattr(cfg, f) for f in SHAPE)
    assert loaded.model_cfg.residual is False and loaded.inference_cfg is None
    out = tmp_path / "r.json"
    assert main(["evaluate", "--dataset", "folder", "--root", str(clips), "--weights", str(path), "--max-frames",
                 "2", "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert result["model_config"]["scale_factor"] == scale and result["protocol"]["scale"] == scale
    clip = result["clips"]["moving"]
    assert clip["frames"] == 2
    for metric in ("psnr_y", "ssim_y", "psnr_rgb_orig"):
        assert clip[metric] is not None and len(clip["per_frame"][metric]) == 2
    assert result["inference_config"]["boundary"] == "copy" and result["inference_config"]["future_frames"]


def test_paper_shape_4x_checkpoint_matches_the_reference_keys(tmp_path, model_reference):
    """RBPN_4x.pth: the paper's configuration from the original's key names and shapes, and one forward."""
    shapes = json.loads((model_reference / "rbpn_paper_state_dict_keys.json").read_text())
    path = original_file(tmp_path / "RBPN_4x.pth", ModelConfig(), data_parallel=True)
    saved = torch.load(path, weights_only=True)
    assert {k.removeprefix("module."): list(v.shape) for k, v in saved.items()} == shapes
    loaded = load_generator_file(path)
    assert tuple(getattr(loaded.model_cfg, f) for f in SHAPE) == (256, 64, 3, 5, 7, 4)
    x = torch.rand(1, 3, 8, 8)
    with torch.inference_mode():
        assert loaded.generator(x, torch.rand(1, 6, 3, 8, 8), torch.zeros(1, 6, 2, 8, 8)).shape == (1, 3, 32, 32)


def test_published_checkpoint_is_loaded_with_weights_only_semantics(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    path = tmp_path / "RBPN_4x.pth"
    with open(path, "wb") as fh:
        pickle.dump({"feat0.conv.weight": Payload()}, fh)
    with pytest.raises(UserError, match="RBPN_4x.pth"):
        load_generator_file(path)
