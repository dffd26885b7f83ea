"""The model shipped with the package (iseebetter_lib/weights/laptop.pt, package data): the default of `evaluate` and `upscale` when no --weights
is given (one note on stderr), the one-line error without it, the model card and `ship_generator`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from iseebetter_lib.cli import main
from iseebetter_lib.config import InferenceConfig, ModelConfig
from iseebetter_lib.errors import UserError
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.shipped import (SHIPPED_ENV, default_weights, model_card_markdown, ship_generator,
                                           shipped_dir, shipped_file, shipped_weights)
from iseebetter_lib.models.checkpoints import generator_file_state, load_generator_file, save_checkpoint
from synthetic import moving_clip, write_frames

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "iseebetter_lib" / "weights"  # the shipped model in this checkout
TINY = ModelConfig(base_filter=8, feat=8, num_stages=1, n_resblock=1, nFrames=3, residual=True)
NOTE = "using the shipped model"
CARD = {
    "title": "Test model",
    "config": {"model": {"base_filter": 8, "nFrames": 3, "scale_factor": 4}, "data": {"patch_size": 16},
               "train": {"batch_size": 2}},
    "training_data": "three synthetic clips",
    "training": {"steps": 2, "wall_time_s": 75.4, "seed": 123, "precision": "fp32"},
    "scores": [{"dataset": "Vid4", "frames": 8, "psnr_y": 24.1234, "ssim_y": 0.65432, "bicubic_psnr_y": 23.78}],
    "command": "iseebetter train --preset tiny --steps 2",
    "limits": ["tiny", "slow to train"],
}


def _generator_file(path: Path, seed: int = 0) -> Path:
    """A tiny generator written the way training writes ``generator.pt``."""
    torch.manual_seed(seed)
    state = generator_file_state(build_generator(TINY).state_dict(), TINY, step=2,
                                 inference_cfg=InferenceConfig())
    return save_checkpoint(path, state)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A shipped model (weights, card, card data) in tmp/weights, pointed at by the environment override."""
    weights, _ = ship_generator(_generator_file(tmp_path / "generator.pt"), tmp_path / "weights", CARD)
    monkeypatch.setenv(SHIPPED_ENV, str(weights))
    return weights


@pytest.fixture
def no_shipped(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "laptop.pt"
    monkeypatch.setenv(SHIPPED_ENV, str(missing))
    return missing


def _clips(root: Path) -> Path:
    write_frames(root / "clip", moving_clip(n=3, size=32))
    return root


# ---------------------------------------------------------------- where the shipped model is
def test_default_location_is_the_package_weights_folder(monkeypatch):
    monkeypatch.delenv(SHIPPED_ENV, raising=False)
    assert shipped_file() == SHIPPED / "laptop.pt" and shipped_dir() == SHIPPED


def test_environment_override(shipped):
    assert shipped_weights() == shipped and default_weights() == shipped and shipped_dir() == shipped.parent


def test_missing_shipped_model_is_a_user_error_naming_the_path(no_shipped):
    assert shipped_weights() is None
    with pytest.raises(UserError) as info:
        default_weights()
    message = str(info.value)
    assert "no --weights given" in message and str(no_shipped) in message and "\n" not in message


# ---------------------------------------------------------------- the commands fall back to it
def test_evaluate_scores_the_shipped_model_with_one_note(shipped, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["evaluate", "--dataset", "folder", "--root", str(_clips(tmp_path / "clips")), "--max-frames", "2",
                 "--no-baselines", "--quiet", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    notes = [ln for ln in err.splitlines() if NOTE in ln]
    assert len(notes) == 1 and str(shipped) in notes[0] and "laptop.md" in notes[0] and "--weights" in notes[0]
    result = json.loads(out.read_text())
    assert result["method"] == "model" and result["weights"] == str(shipped)
    assert result["average"]["frames"] == 2


def test_evaluate_with_method_or_weights_prints_no_note(shipped, tmp_path, capsys):
    root = _clips(tmp_path / "clips")
    assert main(["evaluate", "--dataset", "folder", "--root", str(root), "--max-frames", "1", "--method",
                 "bicubic", "--quiet"]) == 0
    other = _generator_file(tmp_path / "other.pt", seed=1)
    assert main(["evaluate", "--dataset", "folder", "--root", str(root), "--max-frames", "1", "--weights",
                 str(other), "--no-baselines", "--quiet"]) == 0
    assert NOTE not in capsys.readouterr().err


def test_upscale_uses_the_shipped_model_with_one_note(shipped, tmp_path, capsys):
    write_frames(tmp_path / "in", moving_clip(n=2, size=16))
    out = tmp_path / "out"
    assert main(["upscale", str(tmp_path / "in"), "-o", str(out), "--device", "cpu", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert sum(NOTE in ln for ln in err.splitlines()) == 1, err
    assert sorted(p.name for p in out.iterdir()) == ["frame_000001.png", "frame_000002.png"]
    # The same frames as when the shipped file is named explicitly (and then no note).
    explicit = tmp_path / "explicit"
    assert main(["upscale", str(tmp_path / "in"), "-o", str(explicit), "--device", "cpu", "--quiet",
                 "--weights", str(shipped)]) == 0
    assert NOTE not in capsys.readouterr().err
    for name in ("frame_000001.png", "frame_000002.png"):
        assert (out / name).read_bytes() == (explicit / name).read_bytes()


@pytest.mark.parametrize("argv", [
    ["evaluate", "--dataset", "folder", "--root", "CLIPS", "--quiet"],
    ["upscale", "CLIPS/clip", "-o", "OUT", "--quiet"],
])
def test_without_a_shipped_model_the_commands_fail_in_one_line(argv, no_shipped, tmp_path, capsys):
    root = _clips(tmp_path / "clips")
    argv = [a.replace("CLIPS", str(root)).replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("iseebetter: error: no --weights given")
    assert str(no_shipped) in lines[0] and "iseebetter train" in lines[0]
    assert not (tmp_path / "out").exists()


def test_help_mentions_the_shipped_model(capsys):
    for name in ("evaluate", "upscale"):
        with pytest.raises(SystemExit):
            main([name, "--help"])
        out = capsys.readouterr().out
        assert "shipped" in out and "laptop.pt" in out


# ---------------------------------------------------------------- the model card and shipping
def test_model_card_has_every_section_and_formats_the_scores():
    text = model_card_markdown(CARD)
    for heading in ("# Test model", "## Configuration", "## Training data", "## Training", "## Scores",
                    "## Reproduce", "## Limits"):
        assert heading + "\n" in text
    assert "| `model.base_filter` | 8 |" in text and "| `model.num_stages` | n/a |" in text
    assert "| Vid4 | 8 | 24.12 | 0.6543 | 23.78 |" in text
    assert "1 min 15 s" in text and "| seed | 123 |" in text and "| machine | n/a |" in text
    assert "```bash\niseebetter train --preset tiny --steps 2\n```" in text and "- slow to train" in text


def test_model_card_of_an_empty_card_reads_na():
    text = model_card_markdown({})
    assert text.startswith("# iSeeBetter laptop model\n") and text.count("\n## ") == 6
    assert "| n/a | n/a | n/a | n/a | n/a |" in text  # the scores table
    assert "```bash\nn/a\n```" in text
    partial = model_card_markdown({"scores": [{"dataset": "Vid4"}], "training": {"steps": "many"}, "config": 3})
    assert "| Vid4 | n/a | n/a | n/a | n/a |" in partial and "| steps | many |" in partial


def test_ship_generator_copies_byte_identically_with_card_and_json(tmp_path):
    source = _generator_file(tmp_path / "generator.pt")
    weights, card = ship_generator(source, tmp_path / "w", CARD)
    assert weights == tmp_path / "w" / "laptop.pt" and card == tmp_path / "w" / "laptop.md"
    assert weights.read_bytes() == source.read_bytes()
    assert card.read_text() == model_card_markdown(CARD)
    data_text = (tmp_path / "w" / "laptop.json").read_text()
    assert json.loads(data_text) == CARD and data_text == json.dumps(CARD, sort_keys=True, indent=1) + "\n"
    assert load_generator_file(weights).model_cfg == TINY
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["laptop.json", "laptop.md", "laptop.pt"]
    ship_generator(source, tmp_path / "w", CARD)  # the same bytes again: nothing to refuse


def test_ship_generator_refuses_to_replace_other_content_unless_asked(tmp_path):
    first = _generator_file(tmp_path / "a.pt", seed=0)
    second = _generator_file(tmp_path / "b.pt", seed=1)
    weights, card = ship_generator(first, tmp_path / "w", CARD)
    before = {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir()}
    with pytest.raises(UserError, match="laptop.pt: already exists"):
        ship_generator(second, tmp_path / "w", CARD)
    with pytest.raises(UserError, match="laptop.md: already exists"):
        ship_generator(first, tmp_path / "w", dict(CARD, title="Another"))
    assert {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir()} == before  # nothing written
    ship_generator(second, tmp_path / "w", dict(CARD, title="Another"), overwrite=True)
    assert weights.read_bytes() == second.read_bytes() and card.read_text().startswith("# Another\n")


def test_ship_generator_refuses_a_file_that_is_not_a_generator(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="bad.pt"):
        ship_generator(bad, tmp_path / "w", CARD)
    assert not (tmp_path / "w").exists()


# where a path is: (folder, how the card writes a file in it); HOME and the data home are set per test
MACHINE_FOLDERS = [("repository", "_build/laptop/cache"), ("data", "{data}/cache"), ("home", "~/runs/cache")]


def _strings(tree):
    if isinstance(tree, dict):
        return [s for v in tree.values() for s in _strings(v)]
    if isinstance(tree, list):
        return [s for v in tree for s in _strings(v)]
    return [tree] if isinstance(tree, str) else []


@pytest.mark.parametrize("where, written", MACHINE_FOLDERS)
def test_shipped_card_records_no_machine_paths(tmp_path, monkeypatch, where, written):
    """Paths of the build machine (in the repository, the data home, the user's home) are written relative to
    those folders, whether a whole value or inside a command line."""
    home, data = tmp_path / "home", tmp_path / "home" / "data"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ISEEBETTER_DATA", str(data))
    folder = {"repository": REPO, "data": data, "home": home}[where]
    local = {"repository": "_build/laptop/cache", "data": "cache", "home": "runs/cache"}[where]
    path = str(folder / local)
    card = dict(CARD, config={**CARD["config"], "data": {"cache_dir": path}},
                command=[f"iseebetter train --set data.cache_dir={path}"])
    ship_generator(_generator_file(tmp_path / "generator.pt"), tmp_path / "w", card)
    text = (tmp_path / "w" / "laptop.json").read_text()
    saved = json.loads(text)
    assert saved["config"]["data"]["cache_dir"] == written
    assert saved["command"] == [f"iseebetter train --set data.cache_dir={written}"]
    assert str(home) not in text and str(REPO) not in text


def test_committed_card_records_no_absolute_paths():
    """The committed card's data holds no folder of the machine that built it (no absolute path at all)."""
    card_file = SHIPPED / "laptop.json"
    assert card_file.is_file(), f"{card_file}: the shipped model's card data is committed, and missing"
    strings = _strings(json.loads(card_file.read_text()))
    assert strings and not [s for s in strings if s.startswith("/") or " /" in s or "=/" in s or str(Path.home()) in s]


# ---------------------------------------------------------------- the file in the repository
def test_the_repository_shipped_model_loads_with_its_card():
    weights = SHIPPED / "laptop.pt"
    assert weights.is_file(), f"{weights}: the shipped model is committed, and missing"
    loaded = load_generator_file(weights)
    assert loaded.inference_cfg is not None
    saved = torch.load(weights, weights_only=True)["generator"]  # every tensor as the file holds it, bit for bit
    state = loaded.generator.state_dict()
    assert set(state) == set(saved) and all(torch.equal(state[k], saved[k]) for k in saved)
    assert (SHIPPED / "laptop.md").is_file()
    card = json.loads((SHIPPED / "laptop.json").read_text())
    assert {"config", "scores", "command"} <= set(card)
    assert "## Scores" in (SHIPPED / "laptop.md").read_text()


def test_the_repository_shipped_model_is_the_laptop_preset():
    """The shipped weights come from the `laptop` preset as it stands: a changed preset needs a new laptop run."""
    card_file = SHIPPED / "laptop.json"
    assert card_file.is_file(), f"{card_file}: the shipped model's card data is committed, and missing"
    from iseebetter_lib.config.presets import preset

    shipped = json.loads(card_file.read_text())["config"]
    expected = preset("laptop").to_dict()
    # a card written before the generator registry has no model.name: it is an RBPN's, the default
    assert {"name": "rbpn", **shipped["model"]} == expected["model"]
    for key in ("pretrain_steps", "gan_steps", "lr", "lr_decay_at", "batch_size", "precision", "seed"):
        assert shipped["train"][key] == expected["train"][key], key
    for key in ("nFrames", "patch_size", "source", "degradation"):
        assert shipped["data"][key] == expected["data"][key], key
