"""Our networks reproduce the original code's outputs from its state dicts (the data home's model_reference/, else
the tiny references in tests/data; the larger ones skip without the data home)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from iseebetter_lib.errors import UserError
from iseebetter_lib.models import RBPN, Discriminator, convert_original_state_dict


def _rel_l2(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize("name", ["tiny", "reduced"])
def test_generator_reproduces_reference_output(model_reference: Path, require_file, name: str) -> None:
    ref = model_reference
    info = json.loads((ref / "reference.json").read_text())["configs"][name]
    g = RBPN(**info["config"])
    assert sum(p.numel() for p in g.parameters()) == info["params"]
    sd = torch.load(require_file(ref / f"rbpn_{name}_state_dict.pt"), weights_only=True)
    # the original's DataParallel checkpoints carry a "module." prefix; conversion must handle both forms
    g.load_state_dict(convert_original_state_dict({"module." + k: v for k, v in sd.items()}), strict=True)
    g.eval()
    io = torch.load(ref / f"rbpn_{name}_io.pt", weights_only=True)
    # stored as the original call: neighbours/flows are lists (stacked along dim 0) of (B, C, h, w)
    with torch.no_grad():
        out = g(io["target"], list(io["neighbors"].unbind(0)), list(io["flows"].unbind(0)))
        stacked = g(io["target"], io["neighbors"].transpose(0, 1), io["flows"].transpose(0, 1))
    assert out.shape == io["output"].shape
    assert _rel_l2(out, io["output"]) < 1e-5
    assert _rel_l2(stacked, io["output"]) < 1e-5
    assert abs(float(out.mean()) - info["output_mean"]) < 1e-4


def test_discriminator_reproduces_reference_output(model_reference: Path, require_file) -> None:
    ref = model_reference
    d = Discriminator()
    d.load_state_dict(convert_original_state_dict(
        torch.load(require_file(ref / "discriminator_state_dict.pt"), weights_only=True)), strict=True)
    d.eval()
    io = torch.load(ref / "discriminator_io.pt", weights_only=True)
    with torch.no_grad():
        out = d(io["input"])
    assert out.shape == io["output"].shape == (2,)
    assert _rel_l2(out, io["output"]) < 1e-5


def test_paper_state_dict_keys_match_one_to_one(model_reference: Path) -> None:
    keys = json.loads((model_reference / "rbpn_paper_state_dict_keys.json").read_text())
    sd = RBPN().state_dict()
    assert list(sd) == list(keys)
    for k, shape in keys.items():
        assert list(sd[k].shape) == shape, k


def test_convert_rejects_non_state_dicts() -> None:
    with pytest.raises(UserError, match="state dict"):
        convert_original_state_dict([1, 2, 3])  # type: ignore[arg-type]
