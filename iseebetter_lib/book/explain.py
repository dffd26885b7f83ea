"""Sentences and tables that teach the paper from the configuration that actually runs, so the text stays true when a
preset, an override or a profile changes what is trained: the model's shape beside the paper's, the neighbour order,
and each loss term as this run computes it beside the paper's form."""

from __future__ import annotations

from typing import Any

# The paper's generator (RBPN, 4x) and loss, for comparison with a run's configuration.
PAPER_MODEL = {"base_filter": 256, "feat": 64, "num_stages": 3, "n_resblock": 5, "nFrames": 7}

PIXEL = {"mse": r"$\frac{1}{N}\sum (\hat y - y)^2$ (MSE)", "l1": r"$\frac{1}{N}\sum \lvert \hat y - y \rvert$ (L1)"}
PERCEPTUAL = {"vgg16": "MSE of VGG-16 `features[:31]` (every conv layer through pool5, the original code)",
              "vgg19": "MSE of VGG-19 features up to relu5_4 (the paper's figure)"}
ADVERSARIAL = {"mean": r"$-\overline{D(\hat y)}$ (the original code)",
               "log": r"$-\overline{\log D(\hat y)}$ (the paper)"}
TV = {"sq": r"$2\,(\overline{(\Delta_y \hat y)^2} + \overline{(\Delta_x \hat y)^2})$ (squared, the original code)",
      "abs": (r"$\overline{\lvert \Delta_y \hat y \rvert} + \overline{\lvert \Delta_x \hat y \rvert}$"
              " (absolute, the paper)")}
DISCRIMINATOR = {"original": r"$1 - \overline{D(y)} + \overline{D(\hat y)}$ (the original code)",
                 "bce": r"$-\overline{\log D(y)} - \overline{\log(1 - D(\hat y))}$ (binary cross-entropy)"}
PAPER_FORM = {"pixel": "MSE", "perceptual": "VGG-19 features", "adversarial": r"$-\log D(\hat y)$",
              "tv": "absolute differences", "discriminator": "not printed"}


def loss_rows(loss: Any) -> list[dict[str, Any]]:
    """One row per term of the generator's loss and the discriminator's: what this run computes (overline = mean
    over the batch and pixels), its weight, and the paper's form."""
    w = loss.weights.as_dict()
    vgg = PERCEPTUAL[loss.perceptual] + (", ImageNet-normalised inputs" if loss.imagenet_norm else ", inputs in [0, 1]")
    return [
        {"term": "pixel", "this run computes": PIXEL[loss.pixel], "weight": w["pixel"],
         "paper": PAPER_FORM["pixel"]},
        {"term": "perceptual", "this run computes": vgg, "weight": w["perceptual"],
         "paper": PAPER_FORM["perceptual"]},
        {"term": "adversarial", "this run computes": ADVERSARIAL[loss.adversarial], "weight": w["adversarial"],
         "paper": PAPER_FORM["adversarial"]},
        {"term": "tv", "this run computes": TV[loss.tv], "weight": w["tv"], "paper": PAPER_FORM["tv"]},
        {"term": "discriminator (its own loss)", "this run computes": DISCRIMINATOR[loss.discriminator],
         "weight": None, "paper": PAPER_FORM["discriminator"]},
    ]


def model_sentence(model: Any) -> str:
    """How this run's generator differs from the paper's, in one paragraph."""
    from iseebetter_lib.data import neighbour_offsets

    differ = [f"{k} {getattr(model, k)} (paper {v})" for k, v in PAPER_MODEL.items() if getattr(model, k) != v]
    order = ", ".join(f"t{o:+d}" for o in neighbour_offsets(model.nFrames))
    shape = ("the paper's shape" if not differ else "the paper's design at a smaller size: " + ", ".join(differ))
    residual = (" It also adds torch's bicubic upsampling of $x_t$ to the output (a residual path the original "
                "offers but leaves off), so it learns only the detail bicubic misses." if model.residual else "")
    return (f"This run's generator is {shape}. Its DBPN branch runs {model.num_stages} up-projection and "
            f"{model.num_stages - 1} down-projection units; its recurrence visits {model.nFrames - 1} neighbour(s) "
            f"in the order {order} (relative to the target $t$).{residual}")


def schedule_sentence(train: Any) -> str:
    """The two-stage schedule of this run in words, with its numbers."""
    stages = []
    if train.pretrain_steps:
        stages.append(f"{train.pretrain_steps:,} pre-training steps (generator alone, pixel loss)")
    if train.gan_steps:
        stages.append(f"{train.gan_steps:,} adversarial steps (discriminator, then generator on the four-fold loss)")
    start = f"starting from `{train.init_weights}`" if train.init_weights else "from random (Kaiming) weights"
    return (f"This run: {' then '.join(stages) or 'no training steps'}, {start}, batch {train.batch_size}, Adam "
            f"with generator lr {train.lr:g} (divided by 10 at {train.lr_decay_at:.0%} of each stage) and "
            f"discriminator lr {train.d_lr:g}.")


def rows_sentence(rows: Any, reference: str, seeds: Any) -> str:
    """What the multi-frame chapter trains, from its `rows` and `seeds` parameters (so the text names only rows that
    run)."""
    def what(r: Any) -> str:
        if r.get("model") == "dbpn":
            return f"`{r['name']}` (DBPN, the single-image branch alone, one frame)"
        parts = [f"{r.get('frames', 'preset')} frames"]
        if r.get("flow") == "zero":
            parts.append("flow replaced by zeros")
        return f"`{r['name']}` ({', '.join(parts)})"

    others = [what(r) for r in rows if r["name"] != reference]
    seeds = list(seeds)
    return (f"This run trains {len(rows)} configurations at one budget, each once per seed "
            f"({', '.join(map(str, seeds))}: {len(rows) * len(seeds)} trainings): the reference `{reference}`"
            + (f", and {', '.join(others)}." if others else ".")
            + " Runs with the same seed see the same samples in the same order and start from the same weights "
              "wherever the shapes allow.")


def ordinal(n: int) -> str:
    """2 -> '2nd', 4 -> '4th', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def scored_sentence(test_set: Any, frame_step: int, result: Any = None) -> str:
    """What a chapter scores, named from the test set it actually loaded (never "Vid4" when it is not Vid4)."""
    clips = ", ".join(f"`{c}`" for c in test_set.clips)
    what = (f"the {len(test_set.clips)} clips of Vid4 ({clips}), 4x with the BI degradation" if test_set.is_vid4
            else f"the held-out clips of the embedded sample videos ({clips}; never seen in training), 4x with the "
                 "BI degradation")
    step = "every frame" if frame_step == 1 else f"every {ordinal(frame_step)} frame"
    frames = ""
    if result is not None:
        frames = f", {sum(c['frames'] for c in result['clips'].values())} frames in all"
    return f"This run scores {what}: {step}{frames}."


def protocol_sentence(result: Any) -> str:
    """How far this run's own number moves between the two protocols it was scored in (same frames, same model)."""
    avg = result["average"]
    y, rgb = avg["psnr_y"], avg["psnr_rgb_orig"]
    return (f"On this run's frames the same model scores {y:.2f} dB on Y (standard protocol) and {rgb:.2f} dB on "
            f"RGB with the original script's crop: the protocol alone moves the number by {y - rgb:+.2f} dB.")


def dataset_name(dataset: str | None) -> str:
    """A scored dataset's name for a sentence: "Vid4" only when Vid4 was scored."""
    return {"vid4": "Vid4", "folder": "the held-out sample-video clips"}.get(dataset or "", dataset or "unknown clips")
