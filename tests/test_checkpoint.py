"""Checkpoints: atomic save, safe load (never runs code from a file), generator loading from every layout."""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections import OrderedDict

import pytest
import torch

from iseebetter_lib.config import ModelConfig, preset
from iseebetter_lib.errors import UserError
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import (generator_file_state, infer_model_config, load_checkpoint, load_generator,
                                           save_checkpoint)

TINY = ModelConfig(base_filter=16, feat=8, num_stages=1, n_resblock=1, nFrames=3, residual=True)


def test_save_is_atomic_and_round_trips(tmp_path):
    state = {"step": 3, "w": torch.arange(5.0), "nested": {"t": (1, 2.5, "x"), "none": None}}
    path = save_checkpoint(tmp_path / "sub" / "c.pt", state)
    assert sorted(p.name for p in path.parent.iterdir()) == ["c.pt"]  # no temporary left behind
    back = load_checkpoint(path)
    assert back["step"] == 3 and torch.equal(back["w"], state["w"]) and back["nested"] == state["nested"]


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("kind", ["missing", "garbage", "truncated", "code"])
def test_unreadable_files_are_user_errors_naming_the_file(tmp_path, kind):
    path = tmp_path / "bad.pt"
    marker = tmp_path / "pwned"
    if kind == "garbage":
        path.write_bytes(b"\x00not a checkpoint at all" * 10)
    elif kind == "truncated":
        save_checkpoint(path, {"w": torch.zeros(1000)})
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "code":
        torch.save({"payload": _Evil(str(marker))}, path)
        # plain pickle (not torch's zip) too: both must be refused without running anything
        (tmp_path / "bad2.pt").write_bytes(pickle.dumps({"payload": _Evil(str(marker))}))
    with pytest.raises(UserError, match="bad.pt"):
        load_checkpoint(path)
    if kind == "code":
        with pytest.raises(UserError, match="bad2.pt"):
            load_checkpoint(tmp_path / "bad2.pt")
        with pytest.raises(UserError, match="bad.pt"):
            load_generator(path)
    assert not marker.exists()


def test_generator_file_loads_with_its_configuration(tmp_path):
    torch.manual_seed(0)
    gen = build_generator(TINY)
    path = save_checkpoint(tmp_path / "generator.pt", generator_file_state(gen.state_dict(), TINY, step=7))
    loaded, cfg = load_generator(path)
    assert cfg == TINY and not loaded.training
    for key, value in gen.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    same, same_cfg = load_generator(path, model_cfg=dataclasses.replace(TINY))  # the expected shape: accepted
    assert same_cfg == TINY
    assert all(torch.equal(same.state_dict()[k], v) for k, v in gen.state_dict().items())


def test_configuration_mismatch_names_the_fields(tmp_path):
    path = save_checkpoint(tmp_path / "g.pt", generator_file_state(build_generator(TINY).state_dict(), TINY))
    wanted = dataclasses.replace(TINY, base_filter=32, nFrames=5)
    with pytest.raises(UserError) as info:
        load_generator(path, model_cfg=wanted)
    message = str(info.value)
    assert "g.pt" in message and "base_filter: checkpoint 16, requested 32" in message
    assert "nFrames: checkpoint 3, requested 5" in message and "\n" not in message


def test_original_state_dict_loads_with_inferred_configuration(tmp_path, model_reference):
    ref = model_reference
    sd = torch.load(ref / "rbpn_tiny_state_dict.pt", weights_only=True)
    io = torch.load(ref / "rbpn_tiny_io.pt", weights_only=True)
    # As the original saved it: wrapped by nn.DataParallel.
    wrapped = OrderedDict((f"module.{k}", v) for k, v in sd.items())
    path = tmp_path / "RBPN_4x.pth"
    torch.save(wrapped, path)
    gen, cfg = load_generator(path)
    assert (cfg.base_filter, cfg.feat, cfg.num_stages, cfg.n_resblock, cfg.nFrames, cfg.scale_factor) == (
        32, 16, 3, 1, 3, 4)
    assert cfg.residual is False
    with torch.no_grad():
        out = gen(io["target"], list(io["neighbors"]), list(io["flows"]))
    assert torch.allclose(out, io["output"], atol=1e-5)
    with pytest.raises(UserError, match="feat: checkpoint 16, requested 8"):
        load_generator(path, model_cfg=dataclasses.replace(cfg, feat=8))


def test_infer_paper_configuration_from_key_shapes(model_reference):
    import json

    shapes = json.loads((model_reference / "rbpn_paper_state_dict_keys.json").read_text())
    fake = {k: torch.empty(v) for k, v in shapes.items()}
    cfg = infer_model_config(fake)
    full = preset("full").model
    assert (cfg.base_filter, cfg.feat, cfg.num_stages, cfg.n_resblock, cfg.nFrames, cfg.scale_factor) == (
        full.base_filter, full.feat, full.num_stages, full.n_resblock, full.nFrames, full.scale_factor)


def test_not_a_generator_is_a_user_error(tmp_path):
    path = save_checkpoint(tmp_path / "d.pt", {"net.0.weight": torch.zeros(64, 3, 3, 3)})
    with pytest.raises(UserError, match="d.pt.*not an RBPN"):
        load_generator(path)
