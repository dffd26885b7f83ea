"""`iseebetter upscale`: 4x a video or a frame folder with a trained generator (or bicubic, as a baseline).

Values are parsed as strings (numbers converted and bounded here, by `BOUNDS`; the rest checked by
`inference.upscaling.upscale`), so that every bad value is one line (`iseebetter: error: --fps: ...`) rather than
argparse's usage dump.
"""

from __future__ import annotations

import argparse
import math
import sys

from iseebetter_lib.config.schema import BOUNDARIES, PRECISIONS
from iseebetter_lib.errors import UserError

EPILOG = """\
examples:
  iseebetter upscale clip.mp4 -o clip_x4.mp4 --weights runs/compact/checkpoints/last.pt
  iseebetter upscale frames/ -o out_frames/ --weights generator.pt --tile auto --memory-budget 2000
  iseebetter upscale clip.mp4 -o clip_bicubic.mkv --method bicubic
  iseebetter upscale clip.mp4 -o clip_x4.mp4        # the shipped model laptop.pt (model card beside it)

OUTPUT ending in .mp4/.mkv/.mov (H.264) or .avi (MPEG-4) is a video with the input's frame rate; a name without
extension (or ending in /) is a folder of frame_000001.png ... Nothing is written until the last frame is done."""


# The range of every numeric option, declared once: (type, lowest, highest, whether the lowest is allowed). The
# output writer encodes any frame rate from 0.0001 fps (one frame every 2.8 hours) up; 1000 fps bounds the rest.
BOUNDS: dict[str, tuple[type, float, float, bool]] = {
    "--fps": (float, 0.0001, 1000.0, True),
    "--memory-budget": (float, 0.0, 1e9, False),  # MB, up to a petabyte
    "--max-frames": (int, 1, 10 ** 12, True),
}


def _number(name: str, text: str | None) -> float | int | None:
    """The value of numeric option `name` (None when not given), within its declared BOUNDS, else one line."""
    if text is None:
        return None
    kind, low, high, low_ok = BOUNDS[name]
    try:
        value = kind(text)
    except ValueError:
        raise UserError(f"{name}: {text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if not (math.isfinite(value) and (value >= low if low_ok else value > low) and value <= high):
        raise UserError(f"{name}: {text!r} is out of range (expected a number {'>=' if low_ok else '>'} {low:g} "
                        f"and <= {high:g})")
    return value


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; prints a one-line summary on stdout."""
    from iseebetter_lib.device import tune_cpu_allocator
    from iseebetter_lib.inference.upscaling import upscale
    from iseebetter_lib.models.shipped import default_weights, shipped_note

    weights = args.weights
    if weights is None and args.method == "model":
        weights = default_weights()
        print(shipped_note(weights), file=sys.stderr)
    tune_cpu_allocator(args.device or "auto")
    report = upscale(
        args.input, args.output, weights=weights, method=args.method, device=args.device,
        precision=args.precision, tile=args.tile, boundary=args.boundary,
        memory_budget_mb=_number("--memory-budget", args.memory_budget),
        max_frames=_number("--max-frames", args.max_frames), overwrite=args.overwrite,
        progress=not args.quiet and sys.stderr.isatty() or args.progress,
        fps=_number("--fps", args.fps), allow_truncated=args.allow_truncated)
    rate = report.frames / report.seconds if report.seconds > 0 else float("inf")
    print(f"wrote {report.output} ({report.frames} frames at {report.fps:g} fps) in {report.seconds:.1f} s "
          f"({rate:.2f} frames/s)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `upscale` subcommand."""
    p = subparsers.add_parser(
        "upscale", help="4x upscale a video or a folder of frames",
        description="4x video super-resolution of INPUT (a video file or a folder of frames; no ground truth "
                    "needed) into OUTPUT, streaming (memory bounded whatever the length) and tiled (whatever the "
                    "frame size). Optical flow is computed on the fly for each sliding window.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="video file (mp4, mkv, avi, mov, ...) or folder of frames (natural order)")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4/.mkv/.mov/.avi) or folder of PNGs")
    p.add_argument("--weights", metavar="CKPT",
                   help="generator checkpoint (ours or the original RBPN/iSeeBetter); default: the model shipped "
                        "with the package, laptop.pt")
    p.add_argument("--method", default="model", metavar="model|bicubic",
                   help="model (--weights, else the shipped model) or bicubic (MATLAB-exact baseline); default model")
    p.add_argument("--device", metavar="auto|cpu|cuda", help="default auto (CUDA if available)")
    p.add_argument("--precision", metavar="|".join(PRECISIONS),
                   help="fp32; bf16 (CUDA autocast, or the CPU fast path); fp16 (CUDA only). Default: as saved "
                        "with the weights, else bf16 on a CPU with native bf16 kernels (AVX512-BF16 or AMX: about 2x "
                        "faster, 0.003 dB below fp32 on Vid4) and fp32 elsewhere")
    p.add_argument("--tile", metavar="N|auto",
                   help="core tile side in LR pixels, or auto (default): whole frame unless it exceeds the memory "
                        "budget")
    p.add_argument("--boundary", metavar="|".join(BOUNDARIES),
                   help="neighbour outside the clip: copy the target or reflect (default: as saved with the "
                        "weights, else copy)")
    p.add_argument("--memory-budget", metavar="MB", help="memory for the model's activations (default: half of "
                                                          "the free memory)")
    p.add_argument("--max-frames", metavar="N", help="upscale only the first N frames")
    p.add_argument("--fps", metavar="FPS", help="output frame rate, 0.0001 to 1000 (default: the input video's; 25 "
                                                 "for a frame folder)")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--allow-truncated", action="store_true",
                   help="upscale the frames of a truncated or corrupt video that decode (a warning) instead of failing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    p.set_defaults(run=run)
