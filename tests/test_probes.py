"""The input probes of a trained model (`evaluation.probes`): each wrapper changes the inputs as it says, the
identity wrapper scores exactly as the unwrapped model, and the table's arithmetic."""

from __future__ import annotations

import pytest
import torch

from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.probes import (ProbedGenerator, permutation, probe_scores, probe_sentences,
                                              probe_table)


class Spy(torch.nn.Module):
    """Records what it is called with; returns the target."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def forward(self, x, neighbours, flows):
        self.calls.append((x.clone(), neighbours.clone(), flows.clone()))
        return x


def _inputs(n: int = 4):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(1, 3, 5, 6, generator=g), torch.rand(1, n, 3, 5, 6, generator=g),
            torch.randn(1, n, 2, 5, 6, generator=g))


def _seen(probe: str, n: int = 4, seed: int = 0):
    spy = Spy()
    x, nb, fl = _inputs(n)
    ProbedGenerator(spy, probe, seed)(x, nb, fl)
    return (x, nb, fl), spy.calls[0]


def test_none_passes_the_inputs_unchanged():
    (x, nb, fl), (x2, nb2, fl2) = _seen("none")
    assert torch.equal(x, x2) and torch.equal(nb, nb2) and torch.equal(fl, fl2)


def test_copies_give_the_target_as_every_neighbour_with_zero_flow():
    (x, nb, fl), (x2, nb2, fl2) = _seen("copies")
    assert torch.equal(x, x2)
    assert nb2.shape == nb.shape and all(torch.equal(nb2[:, i], x) for i in range(4))
    assert fl2.shape == fl.shape and not fl2.any()


def test_zero_flow_keeps_the_neighbours_and_zeroes_the_flows():
    (x, nb, fl), (x2, nb2, fl2) = _seen("zero_flow")
    assert torch.equal(nb, nb2) and fl2.shape == fl.shape and not fl2.any()


def test_shuffled_permutes_neighbours_with_their_flows():
    (x, nb, fl), (x2, nb2, fl2) = _seen("shuffled", seed=3)
    order = permutation(4, 3)
    assert order != [0, 1, 2, 3] and sorted(order) == [0, 1, 2, 3]
    assert torch.equal(nb2, nb[:, order]) and torch.equal(fl2, fl[:, order])
    assert not torch.equal(nb2, nb)
    assert permutation(4, 3) == order  # fixed by the seed


def test_shuffling_one_neighbour_is_a_no_op_and_two_always_swap():
    (x, nb, fl), (x2, nb2, fl2) = _seen("shuffled", n=1)
    assert torch.equal(nb, nb2) and torch.equal(fl, fl2)
    assert all(permutation(2, s) == [1, 0] for s in range(20))


def test_a_one_frame_model_is_left_alone_and_bad_names_are_refused():
    spy = Spy()
    x = torch.rand(1, 3, 4, 4)
    ProbedGenerator(spy, "copies")(x, x.new_zeros(1, 0, 3, 4, 4), x.new_zeros(1, 0, 2, 4, 4))
    assert spy.calls[0][1].shape[1] == 0
    with pytest.raises(UserError, match="probe 'nope'"):
        ProbedGenerator(spy, "nope")


@pytest.fixture(scope="module")
def tiny_model():
    pytest.importorskip("iseebetter_lib.flow")
    from iseebetter_lib.config import preset
    from iseebetter_lib.models import build_generator
    from iseebetter_lib.models.checkpoints import LoadedGenerator

    cfg = preset("tiny").model
    torch.manual_seed(0)
    return LoadedGenerator(build_generator(cfg).eval(), cfg, None)


def test_identity_wrapper_reproduces_the_unwrapped_scores_and_probes_change_them(tiny_model, tmp_path):
    from synthetic import moving_clip, write_frames

    from iseebetter_lib.evaluation import EvalOptions, evaluate

    write_frames(tmp_path / "c", moving_clip(3, 32, seed=4))
    write_frames(tmp_path / "d", moving_clip(3, 32, seed=5))
    options = EvalOptions("folder", tmp_path, progress=False, baselines=())
    plain = evaluate(options, tiny_model)
    scores = probe_scores(options, tiny_model, probes=("copies", "zero_flow"))
    assert set(scores) == {"none", "copies", "zero_flow"}
    for clip in ("c", "d"):
        assert scores["none"]["clips"][clip]["psnr_y"] == plain["clips"][clip]["psnr_y"]
        assert scores["none"]["clips"][clip]["ssim_y"] == plain["clips"][clip]["ssim_y"]
    assert scores["none"]["average"]["psnr_y"] == plain["average"]["psnr_y"]
    assert scores["copies"]["average"]["psnr_y"] != scores["none"]["average"]["psnr_y"]


def test_table_arithmetic_and_sentences():
    scores = {"none": {"clips": {"a": {"psnr_y": 25.0, "ssim_y": 0.8}, "b": {"psnr_y": 27.0, "ssim_y": 0.9}},
                       "average": {"psnr_y": 26.0, "ssim_y": 0.85}},
              "copies": {"clips": {"a": {"psnr_y": 24.5, "ssim_y": 0.7}, "b": {"psnr_y": 26.7, "ssim_y": 0.8}},
                         "average": {"psnr_y": 25.6, "ssim_y": 0.75}}}
    rows = probe_table(scores)
    assert [r["probe"] for r in rows] == ["none", "copies"]
    assert rows[0]["diff (dB)"] == 0.0 and rows[0]["diff a (dB)"] == 0.0
    assert rows[1]["diff (dB)"] == pytest.approx(-0.4)
    assert rows[1]["diff a (dB)"] == pytest.approx(-0.5) and rows[1]["diff b (dB)"] == pytest.approx(-0.3)
    assert rows[1]["SSIM-Y"] == 0.75
    (sentence,) = probe_sentences(rows)
    assert "is worth 0.400 dB" in sentence and "neighbouring frames bring" in sentence
    rows[1].update({"diff (dB)": 0.2, "PSNR-Y (dB)": 26.2})
    (sentence,) = probe_sentences(rows)
    assert "worth nothing to the model" in sentence and "raises PSNR-Y by 0.200" in sentence
    rows[1].update({"diff (dB)": -0.0001, "PSNR-Y (dB)": 25.9999})
    assert "nothing measurable" in probe_sentences(rows)[0]
