"""Hostile generator files: each is refused with one line naming the file before anything is allocated from it.

A few-kB file can describe an enormous network in two ways: a saved model configuration that asks for one (within
the schema's bounds or past them), or tensors whose shapes claim far more data than the file holds (meta tensors,
stride-0 expansions). Either must be refused before the network is built: the cases run in-process (the message) and
all together in a child process under an address-space limit far below what they describe (nothing is attempted).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import re
import pytest
import torch

from iseebetter_lib.config import ModelConfig
from iseebetter_lib.errors import UserError, load_failure_reason
from iseebetter_lib.models import build_generator
from iseebetter_lib.models.checkpoints import generator_file_state, load_generator_file, save_checkpoint
from iseebetter_lib.models.checkpoint_check import implied_shapes
from synthetic import moving_clip, write_frames

REPO = Path(__file__).resolve().parents[1]
TINY = ModelConfig(base_filter=8, feat=8, num_stages=1, n_resblock=1, nFrames=3)
# within the schema's bounds: about 420 billion parameters (1.7 TB in float32)
ENORMOUS = dict(base_filter=4096, feat=4096, num_stages=64)
MEMORY_LIMIT = 2 << 30  # bytes of address space for the child: torch and a tiny model fit, the hostile networks not


def _tiny_state() -> dict[str, Any]:
    torch.manual_seed(0)
    return generator_file_state(build_generator(TINY).state_dict(), TINY)


def _with(config: dict[str, Any] | None = None, tensors: Callable[[dict], dict] | None = None) -> Callable[[], dict]:
    """A file's content: the tiny generator, its configuration updated by `config`, its tensors changed by `tensors`."""
    def make() -> dict[str, Any]:
        state = _tiny_state()
        state["model_config"].update(config or {})
        if tensors is not None:
            state["generator"] = tensors(dict(state["generator"]))
        return state
    return make


def _drop_first(sd: dict) -> dict:
    sd.pop(next(iter(sd)))
    return sd


def _reshape_output(sd: dict) -> dict:
    sd["output.conv.weight"] = torch.zeros(3, 8, 3, 3)
    return sd


def _claiming(device: str | None) -> Callable[[dict], dict]:
    """Tensors of the shapes ENORMOUS implies, as meta tensors (device "meta") or stride-0 expansions (None)."""
    def tensors(_: dict) -> dict:
        shapes = implied_shapes(dataclasses.replace(TINY, **ENORMOUS), "enormous")
        if device == "meta":
            return {k: torch.empty(s, device="meta") for k, s in shapes.items()}
        one = torch.zeros(1)
        return {k: one.expand(s) for k, s in shapes.items()}
    return tensors


def _original_expanded() -> dict[str, Any]:
    """An original-layout state dict (no configuration: inferred from shapes) whose tensors are stride-0 expansions
    of the shapes of an enormous network."""
    shapes = implied_shapes(dataclasses.replace(TINY, base_filter=4096, feat=4096, n_resblock=64), "enormous")
    one = torch.zeros(1)
    return {f"module.{k}": one.expand(s) for k, s in shapes.items()}


class _Payload:
    """Unpickling it would run code (it never does: the loader refuses it)."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


# name: (file content, fragments of the one-line message)
CASES: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
    "enormous-configuration": (_with(ENORMOUS), ("do not match the model configuration", "missing key",
                                                 "parameters, the file holds")),
    "configuration-past-bounds": (_with({"base_filter": 10**9}), ("bad model configuration", "base_filter")),
    "configuration-of-wrong-type": (_with({"feat": "many"}), ("bad model configuration", "feat")),
    "unknown-configuration-key": (_with({"layers": 10**6}), ("bad model configuration", "layers")),
    "wrong-shape": (_with(tensors=_reshape_output), ("output.conv.weight: shape (3, 8, 3, 3) in the file",)),
    "missing-key": (_with(tensors=_drop_first), ("missing key feat0.conv.weight",)),
    "extra-key": (_with(tensors=lambda sd: {**sd, "extra.weight": torch.zeros(2)}), ("unexpected key extra.weight",)),
    "integer-tensor": (_with(tensors=lambda sd: {**sd, "output.conv.bias": torch.zeros(3, dtype=torch.int64)}),
                       ("output.conv.bias: torch.int64 in the file, torch.float32 in its configuration",)),
    "meta-tensors": (_with(ENORMOUS, _claiming("meta")), ("not a plain tensor file", "meta")),
    "expanded-tensors": (_with(ENORMOUS, _claiming(None)), ("not a plain tensor file", "expanded")),
    "original-layout-expanded": (_original_expanded, ("not a plain tensor file", "expanded")),
    "code-payload": (lambda: {**_tiny_state(), "step": _Payload()},
                     ("refused to load: not a plain tensor file (it asks to run code: ", "system")),
}


def _write(name: str, folder: Path) -> Path:
    path = folder / f"{name}.pt"
    save_checkpoint(path, CASES[name][0]())
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_is_refused_with_one_line(tmp_path, name):
    path = _write(name, tmp_path)
    assert path.stat().st_size < 200_000  # a small file, whatever it describes
    with pytest.raises(UserError) as info:
        load_generator_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message and "\x1b" not in message
    assert "weights_only" not in message and len(message) < len(str(path)) + 300
    for fragment in CASES[name][1]:
        assert fragment in message, (fragment, message)


def test_compressed_member_is_refused_before_torch_reads_it(tmp_path):
    """A deflated member could inflate far beyond the file's size; PyTorch itself only writes stored members."""
    plain = save_checkpoint(tmp_path / "plain.pt", _tiny_state())
    packed = tmp_path / "packed.pt"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(UserError, match=r"packed\.pt: not a plain tensor file \(compressed member .*data\.pkl"):
        load_generator_file(packed)
    assert load_generator_file(plain).model_cfg == TINY  # the same content stored as PyTorch writes it loads


# The child's first statement caps its address space (set there rather than in a preexec_fn, which is unsafe in a
# parent that runs threads, as torch's does).
LIMITED = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT}))\n"
CHILD = LIMITED + """
import sys
from iseebetter_lib.errors import UserError, load_failure_reason
from iseebetter_lib.models.checkpoints import load_generator_file
for path in sys.argv[1:]:
    try:
        load_generator_file(path)
        print("LOADED", path)
    except UserError as exc:
        print("REFUSED", exc)
"""


@pytest.mark.slow
def test_hostile_files_allocate_nothing_under_a_memory_limit(tmp_path):
    """In a child process whose address space is capped far below what the files describe: every hostile file is
    refused with its one line (an attempt to build the network would end in an allocation error), and a real
    generator file still loads under the same cap."""
    enormous = [name for name in CASES if name in ("enormous-configuration", "meta-tensors", "expanded-tensors",
                                                   "original-layout-expanded")]
    paths = [_write(name, tmp_path) for name in enormous]
    valid = save_checkpoint(tmp_path / "valid.pt", _tiny_state())
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    done = subprocess.run([sys.executable, "-c", CHILD, *map(str, paths), str(valid)], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == len(paths) + 1, done.stdout
    for name, path, line in zip(enormous, paths, lines):
        assert line.startswith(f"REFUSED {path}: "), line
        assert all(fragment in line for fragment in CASES[name][1]), line
    assert lines[-1] == f"LOADED {valid}"


@pytest.mark.slow
def test_upscale_with_an_enormous_configuration_exits_with_one_line_under_a_memory_limit(tmp_path):
    """The command a user runs, as a process: exit status 2, one line on stderr naming the file, no output."""
    weights = _write("enormous-configuration", tmp_path)
    write_frames(tmp_path / "frames", moving_clip(n=3, size=32))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    command = LIMITED + "import runpy; runpy.run_module('iseebetter_lib', run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", command, "upscale", str(tmp_path / "frames"), "-o",
                           str(tmp_path / "out"), "--weights", str(weights), "--device", "cpu"], capture_output=True,
                          text=True, env=env, timeout=600)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert str(weights) in lines[0] and "do not match the model configuration" in lines[0]
    assert not (tmp_path / "out").exists()


TORCH_ADVICE = ("Weights only load failed. This file can still be loaded, to do so you have two options, \x1b[1mdo "
                "those steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) Re-running `torch.load` "
                "with `weights_only` set to `False` will likely succeed.\n\tWeightsUnpickler error: {}\n\nCheck the "
                "documentation of torch.load.")


@pytest.mark.parametrize("exc, reason", [
    (RuntimeError(TORCH_ADVICE.format("Unsupported global: GLOBAL __main__.Evil was not an allowed global by "
                                      "default. Please use `torch.serialization.add_safe_globals`")),
     "it asks to run code: __main__.Evil"),
    (RuntimeError(TORCH_ADVICE.format("Trying to load unsupported GLOBAL posix.system whose module posix is "
                                      "blocked.")), "it asks to run code: posix.system"),
    (RuntimeError("\x1b[31mPytorchStreamReader failed\x1b[0m reading zip archive:\n  failed finding central"),
     "PytorchStreamReader failed reading zip archive:"),
    (EOFError(""), "EOFError"),
    (ValueError("x" * 500), "x" * 200),
])
def test_load_failure_reason_is_one_clean_line(exc, reason):
    assert load_failure_reason(exc) == reason


@pytest.mark.parametrize("path, said", [("/dev/zero", "not a regular file (a character device)"),
                                        ("/tmp", "not a regular file (a folder)")])
def test_a_weights_path_that_is_no_file_is_named_as_what_it_is(path, said):
    from iseebetter_lib.models.checkpoints import load_checkpoint

    with pytest.raises(UserError, match=re.escape(said)):
        load_checkpoint(path)
