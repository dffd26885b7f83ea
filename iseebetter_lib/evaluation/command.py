"""`iseebetter evaluate`: PSNR/SSIM (standard Y protocol and the original script's RGB one), optional tOF."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from iseebetter_lib.config.schema import BOUNDARIES, DEGRADATIONS, EVAL_DATASETS, PRECISIONS
from iseebetter_lib.errors import UserError
from iseebetter_lib.evaluation.options import EvalOptions, check_overrides
from iseebetter_lib.io import require_file

EPILOG = """\
examples:
  iseebetter evaluate --dataset vid4 --method bicubic          # the literature's row: 23.78 / 0.6347
  iseebetter evaluate --dataset vid4 --frame-step 4            # the shipped model (laptop.pt)
  iseebetter evaluate --dataset vid4 --weights runs/compact/checkpoints/last.pt --frame-step 4 --json vid4.json
  iseebetter evaluate --dataset vid4 --weights RBPN_4x.pth --json rbpn.json --resume   # continue after Ctrl-C
  iseebetter evaluate --dataset vimeo90k --root vimeo_septuplet --list vimeo_septuplet/sep_testlist.txt \\
      --weights generator.pt

Without --method or --weights, the model shipped with the package is scored (iseebetter_lib/weights/laptop.pt,
trained on a laptop CPU; model card laptop.md beside it). Per clip: mean over its frames; average: mean over clips.
--dataset vid4 without --root reads Vid4 from the data home ($ISEEBETTER_DATA, else ~/.cache/iseebetter);
`iseebetter fetch vid4` installs it there."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `evaluate` subcommand."""
    p = subparsers.add_parser(
        "evaluate", help="PSNR/SSIM/tOF of bicubic or a checkpoint on Vid4, Vimeo-90K or a folder of clips",
        description="Score bicubic or a trained generator: PSNR/SSIM on Y (BT.601, MATLAB-style SSIM), the original "
                    "iSeeBetter script's RGB PSNR, optional tOF; the paper's Table 3 beside ours on Vid4.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=EVAL_DATASETS, default="vid4",
                   help="vid4 / folder: one sub-folder of frames per clip; vimeo90k: septuplets (default: vid4)")
    p.add_argument("--root", help="dataset folder (vid4 default: vid4/ in the data home)")
    p.add_argument("--list", dest="list_file", metavar="FILE",
                   help="vimeo90k: septuplets (xxxxx/yyyy) to score; vid4/folder: clip names, one a line")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--method", choices=("bicubic", "torch_bicubic"),
                      help="a non-learned upscaler (bicubic: MATLAB imresize)")
    what.add_argument("--weights", metavar="CKPT",
                      help="generator checkpoint (ours or an original state dict); without --method or --weights: "
                           "the model shipped with the package, laptop.pt")
    p.add_argument("--degradation", choices=DEGRADATIONS, default="BI", help="how LR frames are made (default: BI)")
    p.add_argument("--scale", type=int, default=4, help="scale for --method (models use their own; default: 4)")
    p.add_argument("--crop", type=int, default=0, metavar="N", help="border crop of the Y metrics (default: 0)")
    p.add_argument("--max-frames", type=int, metavar="N", help="only the first N frames of each clip")
    p.add_argument("--frame-step", type=int, default=1, metavar="N", help="score every N-th frame (default: 1)")
    p.add_argument("--tof", action="store_true", help="also temporal consistency tOF (needs --frame-step 1)")
    p.add_argument("--tof-backend", choices=("auto", "farneback", "pyflow"), default="auto",
                   help="flow for tOF: farneback (OpenCV, as TecoGAN; auto when installed) or pyflow (ours)")
    p.add_argument("--no-baselines", action="store_true",
                   help="with --weights, skip the bicubic / torch_bicubic rows on the same frames")
    p.add_argument("--device", help="torch device for --weights (default: cpu)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="model precision (default: fp32; bf16 autocast works on CPU and CUDA)")
    p.add_argument("--tile", metavar="PX|auto", help="LR tile side for large frames, or auto (model runs)")
    p.add_argument("--boundary", choices=BOUNDARIES,
                   help="neighbour outside the clip: copy the target or reflect (default: as saved with the "
                        "weights, else copy)")
    p.add_argument("--json", metavar="OUT", help="write the full result (per clip, per frame, protocol) as JSON")
    p.add_argument("--results-dir", metavar="DIR",
                   help="append per-frame results to DIR/frames.jsonl as they come (default with --json: "
                        "OUT's name with .frames.jsonl)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its per-frame results (finished frames are not rescored)")
    p.add_argument("--csv", metavar="OUT", help="write per-clip rows as CSV")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing --json/--csv files (without --resume: per-frame results too)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def frames_log_path(json_out: str | None, results_dir: str | None) -> Path | None:
    """Where per-frame results go: DIR/frames.jsonl, else beside the --json output, else nowhere."""
    if results_dir is not None:
        return Path(results_dir) / "frames.jsonl"
    if json_out is not None:
        return Path(json_out).with_suffix(".frames.jsonl")
    return None


def _check_paths(args: argparse.Namespace) -> None:
    """Outputs that would be overwritten and inputs that are missing: one line each, before anything runs."""
    for flag, out in (("--json", args.json), ("--csv", args.csv)):
        if out is not None and Path(out).exists() and not args.overwrite:
            raise UserError(f"{out}: already exists (pass --overwrite to replace it)")
        if out is not None and Path(out).is_dir():
            raise UserError(f"{flag} {out}: is a directory")
    if args.root is not None and not Path(args.root).is_dir():
        raise UserError(f"--root {args.root}: folder not found")
    if args.list_file is not None:
        require_file(args.list_file, "list file (--list)")
    if args.weights is not None:
        require_file(args.weights, "checkpoint (--weights)")
    if args.results_dir is not None and Path(args.results_dir).exists() and not Path(args.results_dir).is_dir():
        raise UserError(f"--results-dir {args.results_dir}: is a file")


def options_from_args(args: argparse.Namespace) -> EvalOptions:
    """The evaluation options the flags give, validated. With --tof, per-frame results are written only when asked
    for (--resume, --results-dir), which the options then refuse: tOF needs every frame of a clip in one run."""
    asked = not args.tof or args.resume or args.results_dir is not None
    return EvalOptions(
        dataset=args.dataset, root=args.root, list_file=args.list_file,
        method="model" if args.weights else args.method, degradation=args.degradation, scale=args.scale,
        crop=args.crop, max_frames=args.max_frames, frame_step=args.frame_step, tof=args.tof,
        tof_backend=args.tof_backend, baselines=() if args.no_baselines else None, progress=not args.quiet,
        results_log=frames_log_path(args.json, args.results_dir) if asked else None, resume=args.resume,
        overwrite_log=args.overwrite and not args.resume).validate()


def run(args: argparse.Namespace) -> int:
    """Validate everything cheap first (outputs, paths, numbers), then evaluate, print and write."""
    from iseebetter_lib.device import tune_cpu_allocator
    from iseebetter_lib.evaluation.evaluate import evaluate, to_json_dict
    from iseebetter_lib.evaluation.tables import csv_text, results_table
    from iseebetter_lib.io import atomic_write_text
    from iseebetter_lib.models.shipped import default_weights, shipped_note

    _check_paths(args)
    opts = options_from_args(args)
    overrides = check_overrides({"device": args.device, "precision": args.precision, "tile": args.tile,
                                 "boundary": args.boundary})
    if args.weights is None and args.method is None:
        args.weights = str(default_weights())
        print(shipped_note(Path(args.weights)), file=sys.stderr)
    if opts.resume and not Path(opts.results_log).is_file():
        print(f"note: --resume: {opts.results_log} does not exist yet; starting from the first frame", file=sys.stderr)
    tune_cpu_allocator(args.device or "cpu")
    result = evaluate(opts, args.weights, overrides)
    print(results_table(result))
    seconds = result["seconds"]
    print(f"\n{result['average']['frames']} frames in {seconds['total']:.1f} s "
          f"({result['method']}: {seconds[result['method']]:.1f} s)", file=sys.stderr)
    if args.json:
        atomic_write_text(args.json, json.dumps(to_json_dict(result), indent=1) + "\n", overwrite=args.overwrite)
    if args.csv:
        atomic_write_text(args.csv, csv_text(result), overwrite=args.overwrite)
    return 0
