"""The model shipped with the package: ``iseebetter_lib/weights/laptop.pt`` (a ``generator.pt`` trained on a laptop
CPU), its model card ``laptop.md`` and the card's data ``laptop.json`` beside it. They are package data: a clone, an
editable install and a wheel install (``pip install .``) all find them, through `importlib.resources`.

`iseebetter evaluate` and `iseebetter upscale` fall back to it when no ``--weights`` is given (`default_weights`);
`ship_generator` puts a freshly trained generator and its card in place. ``ISEEBETTER_SHIPPED_WEIGHTS=FILE.pt``
points the fallback at another file (its card is beside it, same name).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

from iseebetter_lib.data.home import data_home
from iseebetter_lib.paths import repository_root
from iseebetter_lib.errors import UserError
from iseebetter_lib.io import atomic_write_bytes

SHIPPED_NAME = "laptop"
SHIPPED_ENV = "ISEEBETTER_SHIPPED_WEIGHTS"
NA = "n/a"

# The configuration keys a reader of the card needs (the full configuration is in the card's JSON).
CONFIG_ESSENTIALS = (
    "model.base_filter", "model.feat", "model.num_stages", "model.n_resblock", "model.nFrames",
    "model.scale_factor", "model.residual",
    "data.source", "data.patch_size", "data.degradation", "data.future_frames", "data.boundary",
    "train.batch_size", "train.pretrain_steps", "train.gan_steps", "train.lr", "train.precision",
)
SCORE_COLUMNS = (("dataset", "dataset"), ("frames", "frames"), ("psnr_y", "PSNR-Y (dB)"), ("ssim_y", "SSIM-Y"),
                 ("bicubic_psnr_y", "bicubic PSNR-Y (dB)"))


def package_weights_dir() -> Path:
    """The package's ``weights/`` folder (package data: ``iseebetter_lib/weights`` in a clone or an install)."""
    return Path(str(resources.files("iseebetter_lib").joinpath("weights")))


def shipped_file() -> Path:
    """Where the shipped generator is (whether or not it exists): ``laptop.pt`` in the package's ``weights/``, or
    the file named by ``$ISEEBETTER_SHIPPED_WEIGHTS``."""
    override = os.environ.get(SHIPPED_ENV)
    if override:
        return Path(override).expanduser()
    return package_weights_dir() / f"{SHIPPED_NAME}.pt"


def shipped_dir() -> Path:
    """The folder of the shipped model: the package's ``weights/`` (or that of ``$ISEEBETTER_SHIPPED_WEIGHTS``)."""
    return shipped_file().parent


def shipped_weights() -> Path | None:
    """The shipped generator file, or None when there is none."""
    path = shipped_file()
    return path if path.is_file() else None


def _shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it (shorter in messages), else as is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def default_weights(option: str = "--weights") -> Path:
    """The shipped generator, for a command given no `option`; a one-line `UserError` when there is none."""
    path = shipped_weights()
    if path is None:
        raise UserError(f"no {option} given and no shipped model at {_shown(shipped_file())}; pass {option} CKPT "
                        "(a generator trained with `iseebetter train`)")
    return path


def shipped_note(path: Path, option: str = "--weights") -> str:
    """The one line a command prints when it falls back to the shipped model."""
    card = path.with_suffix(".md")
    card_text = f"; model card: {_shown(card)}" if card.is_file() else ""
    return (f"using the shipped model {_shown(path)} (trained on a laptop CPU{card_text}); "
            f"pass {option} to choose another")


# ---------------------------------------------------------------- the model card
def _text(value: Any) -> str:
    if value is None or value == "":
        return NA
    if isinstance(value, float):
        return f"{value:g}"
    return " ".join(str(value).split()).replace("|", "\\|")


def _lookup(tree: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(tree, Mapping) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[str]:
    """A text or a list of texts as Markdown bullets (n/a when empty)."""
    if isinstance(value, Mapping):
        lines = [f"{k}: {_text(v)}" for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        lines = [_text(v) for v in value]
    else:
        lines = [_text(value)]
    return [f"- {line}" for line in lines] if lines else [f"- {NA}"]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows])


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return _text(seconds)
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _score(key: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key == "ssim_y":
            return f"{value:.4f}"
        if key.endswith("psnr_y"):
            return f"{value:.2f}"
    return _text(value)


def _summary(card: Mapping[str, Any]) -> str:
    if card.get("summary"):
        return _text(card["summary"])
    training = _mapping(card.get("training"))
    scale = _lookup(card.get("config"), "model.scale_factor")
    kind = f"RBPN, {_text(scale)}x" if scale is not None else "RBPN"
    return (f"A small iSeeBetter generator ({kind}) trained on a laptop CPU for {_text(training.get('steps'))} "
            f"steps ({_duration(training.get('wall_time_s'))}). It is the default model of `iseebetter upscale` and "
            "`iseebetter evaluate` when no `--weights` is given. It is far smaller and trained far shorter than the "
            "paper's model: the Scores below say what it reaches.")


def model_card_markdown(card: Mapping[str, Any]) -> str:
    """The Markdown model card of `card` (keys: title, summary, config, training_data, training, scores, command,
    limits); a missing key reads n/a."""
    card = _mapping(card)
    config = card.get("config")
    training = _mapping(card.get("training"))
    lines = [f"# {_text(card.get('title') or 'iSeeBetter laptop model')}", "", _summary(card), "",
             "## Configuration", ""]
    lines += _table(("key", "value"), [(f"`{key}`", _text(_lookup(config, key))) for key in CONFIG_ESSENTIALS])
    lines += ["", f"The full configuration is in `{SHIPPED_NAME}.json` beside this card.", "",
              "## Training data", ""]
    lines += _items(card.get("training_data"))
    lines += ["", "## Training", ""]
    lines += _table(("item", "value"), [("steps", _text(training.get("steps"))),
                               ("wall time", _duration(training.get("wall_time_s"))),
                               ("seed", _text(training.get("seed"))),
                               ("precision", _text(training.get("precision"))),
                               ("machine", _text(training.get("machine")))])
    lines += ["", "## Scores", ""]
    scores = card.get("scores")
    rows = [[_score(key, _mapping(row).get(key)) for key, _ in SCORE_COLUMNS]
            for row in (scores if isinstance(scores, (list, tuple)) else [])]
    lines += _table([label for _, label in SCORE_COLUMNS], rows or [[NA] * len(SCORE_COLUMNS)])
    command = card.get("command")
    commands = [str(c) for c in command] if isinstance(command, (list, tuple)) else [str(command or NA)]
    lines += ["", "## Reproduce", "", "```bash", *commands, "```", "", "## Limits", ""]
    lines += _items(card.get("limits"))
    return "\n".join(lines) + "\n"


def portable_paths(value: Any) -> Any:
    """`value` (nested dicts, lists, texts) with the build machine's folders taken out of every text: a path in the
    repository becomes relative to it, one in the data home ``{data}/...`` (the book's notation), one in the user's
    home ``~/...`` (the most specific folder wins). A shipped card says nothing about who built it or where."""
    bases = {repository_root(): "", data_home(): "{data}/", Path.home(): "~/"}
    folders = sorted(((str(b.resolve()), p) for b, p in bases.items() if len(b.resolve().parts) > 1),
                     key=lambda item: -len(item[0]))

    def text(value: str) -> str:
        for folder, prefix in folders:
            value = value.replace(folder + os.sep, prefix)
            if value == folder:
                value = prefix.rstrip("/") or "."
        return value

    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {k: portable_paths(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [portable_paths(v) for v in value]
    return value


def ship_generator(generator_file: str | os.PathLike, dest_dir: str | os.PathLike, card: Mapping[str, Any],
                   overwrite: bool = False) -> tuple[Path, Path]:
    """Put `generator_file` (a ``generator.pt``, checked to load) in `dest_dir` as ``laptop.pt`` with its model card
    ``laptop.md`` and the card's data ``laptop.json`` (paths made portable: `portable_paths`); returns (weights,
    card). Each write is atomic. An existing file with other content is a `UserError` unless `overwrite` (checked for all three before anything is written)."""
    from iseebetter_lib.models.checkpoints import load_generator_file

    source = Path(generator_file)
    load_generator_file(source)  # a file that does not load as a generator is never shipped
    dest = Path(dest_dir)
    card = portable_paths(dict(card))
    contents = {dest / f"{SHIPPED_NAME}.pt": source.read_bytes(),
                dest / f"{SHIPPED_NAME}.md": model_card_markdown(card).encode("utf-8"),
                dest / f"{SHIPPED_NAME}.json": (json.dumps(dict(card), sort_keys=True, indent=1, default=str)
                                                + "\n").encode("utf-8")}
    if not overwrite:
        for path, data in contents.items():
            if path.exists() and (not path.is_file() or path.read_bytes() != data):
                raise UserError(f"{path}: already exists with other content (pass overwrite=True to replace it)")
    for path, data in contents.items():
        if not (path.is_file() and path.read_bytes() == data):
            atomic_write_bytes(path, data, overwrite=overwrite)  # one that appeared meanwhile is kept
    return dest / f"{SHIPPED_NAME}.pt", dest / f"{SHIPPED_NAME}.md"
