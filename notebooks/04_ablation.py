# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python (iseebetter)
#     language: python
#     name: iseebetter
# ---

# %% [markdown]
# # Ablation of the four-fold loss: one variant
#
# ## In this chapter
#
# - How an ablation isolates one cause: every variant starts from the same generator, runs the same seed, data and
#   schedule, and differs from the others *only* in the weights of its loss terms.
# - What each term is for: the pixel term for fidelity, the perceptual and adversarial terms for the detail a pixel
#   loss averages away, TV against noise.
# - How a repeated seed gives the experiment its noise floor, so that a difference is called resolved or not.
#
# ## The design
#
# This notebook runs once per loss variant (papermill parameters `variant` and the loss `weights`): pixel loss only,
# pixel + perceptual, pixel + adversarial, pixel + TV, and all four (the paper's loss {cite}`chadha2020iseebetter`).
# As in the paper, the extra terms act in the adversarial fine-tuning stage: every variant fine-tunes the same
# generator (chapter 03's, `init_run_dir`; in the `full` profile the published `RBPN_4x.pth`), scores the result on
# the test frames and writes `ablation_dir/<variant>/ablation.json`; chapter 04b sets them side by side. One variant,
# `all_four_seed2`, repeats `all_four` with another seed: the two differ only by chance, and that difference is the
# **noise floor** every other difference is judged against.
#
# Why the terms should matter: a network trained on a pixel loss alone learns, for every LR patch, roughly the
# *average* of the HR patches that could have produced it, and an average of many sharp textures is a blurred one.
# The perceptual term {cite}`johnson2016perceptual` compares VGG features {cite}`simonyan2015vgg` instead of pixels,
# and the adversarial term {cite}`ledig2017srgan` rewards outputs the discriminator cannot tell from real frames:
# both pull towards *a* plausible sharp texture rather than the mean of all of them, at some cost in PSNR, which
# rewards the mean. TV penalises differences between neighbouring pixels: it smooths noise the other two may add.
# Chapter 03 gives each term's formula as this code computes it.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
variant = "all_four"
weights = {"pixel": 1.0, "perceptual": 0.006, "adversarial": 0.001, "tv": 2e-8}
preset_name = "compact"
ablation_dir = "../_build/lab/runs/ablation"
cache_dir = "../_build/lab/cache"
data_root = None
init_run_dir = "../_build/lab/runs/compact"  # chapter 03's run: variants fine-tune its generator (None: from scratch)
pretrain_steps = 0
gan_steps = 12
eval_frames = 3  # test frames per clip scored (0: all)
frame_step = 1  # score every n-th of them
crop_clip = "calendar"  # the clip whose first scored frame chapter 04b shows for every variant
tof_frames = 8  # consecutive frames of the temporal-profile crop for tOF (0: no tOF)
vid4_root = None  # None: Vid4 from the data home; without it, the embedded held-out clips
overrides = {"train.lr": 2e-4}

# %%
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.fallbacks import chapter_test_set

test_set = chapter_test_set(vid4_root, cache_dir)  # Vid4, else the embedded held-out clips (noted in bold)
show_md(test_set.note)

# %%
from pathlib import Path

import torch

from iseebetter_lib.book import plots
from iseebetter_lib.book.ch04_ablation import ablation_markdown, score_variant
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results
from iseebetter_lib.book.training_runs import describe, experiment_config, run_training, trained_checkpoint
from iseebetter_lib.book.ablation_perception import vgg_meaning

# %%
from iseebetter_lib.book import by_hand, charts, committed

torch.manual_seed(seed)
CHAPTER = "04_ablation"
out_dir = Path(ablation_dir) / variant
start_file, start_note = by_hand.model_file(init_run_dir) if init_run_dir else (None, "")
show_md(start_note)
start = {"train.init_weights": str(start_file)} if start_file else {}
cfg = experiment_config(preset_name, out_dir, cache_dir, seed, data_root=data_root, weights=weights,
                        overrides={"train.pretrain_steps": pretrain_steps, "train.gan_steps": gan_steps, **start,
                                   **overrides})
show_md(f"**Variant `{variant}`**, weights: " + ", ".join(f"{k} {v:g}" for k, v in weights.items()) + ". "
        + (f"The generator starts from `{Path(cfg.train.init_weights).name}`." if cfg.train.init_weights else
           "The generator starts from scratch."))
show_md(md_table(describe(cfg)))
if weights.get("perceptual", 0):
    show_md(vgg_meaning(cfg.train.loss))

# %%
summary = run_training(cfg, progress=False)
print(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s")
dense, sparse = charts.split_stages(summary["history"])
if dense:
    save_figure(plots.loss_curves(dense, title=f"ablation {variant}"), CHAPTER, f"loss_{variant}", profile)
if sparse:
    show_md(md_table(charts.loss_table(sparse), floatfmt=".4g"))

# %% [markdown]
# `d_hr` and `d_sr` are the discriminator's mean probabilities that real and generated patches are real: both start
# near 0.5 (it cannot tell them apart) and move apart as it learns; when the generator answers, `d_sr` climbs back
# and the discriminator's loss rises: the two *trade*. The loss terms are logged weighted, as they enter the
# generator's loss.
#
# Beside PSNR, SSIM and the detail ratio, each variant is scored on perception: **NIQE** {cite}`mittal2013niqe`
# (a no-reference naturalness score: the distance of the image's local statistics from those of pristine natural
# images; lower is more natural; it needs frames larger than 192x192 and is "n/a" on smaller ones) on the scored
# outputs' Y channel, and **tOF** {cite}`chu2020tecogan` (flicker; lower is steadier) on consecutive frames of one
# clip crop, as chapter 05's temporal profile.

# %%
result = score_variant(variant, weights, summary, out_dir, eval_frames=eval_frames, vid4_root=test_set.root,
                       dataset=test_set.dataset, frame_step=frame_step,
                       crop_clip=crop_clip if test_set.is_vid4 else test_set.profile_clip,
                       tof_frames=tof_frames, tof_clip=test_set.profile_clip, tof_crop=test_set.profile_crop)
show_md(ablation_markdown([result["row"]]))
save_results(CHAPTER, profile, {"row": result["row"], "history": summary["history"]});

# %% [markdown]
# ## The committed laptop run of this variant

# %%
laptop = committed.show_committed(f"{CHAPTER}__{variant}")
if laptop and laptop["numbers"].get("history"):
    committed.show_figure(plots.loss_curves(laptop["numbers"]["history"], title=f"laptop: ablation {variant}"))

# %% [markdown]
# ## Summary
#
# - An ablation changes one thing at a time; here only the loss weights differ between variants.
# - The pixel loss pulls towards the average of plausible outputs (blur); the perceptual and adversarial terms pull
#   towards a plausible sharp output; TV smooths.
# - A repeated seed measures how far two runs differ by chance: the floor for calling any difference real.
#
# ## Exercises
#
# 1. Make the adversarial term matter: run `variant = "adversarial"` with
#    `weights = {"pixel": 1.0, "perceptual": 0.0, "adversarial": 0.05, "tv": 0.0}`. Expect the detail ratio to rise
#    (sharper, noisier output) and PSNR-Y to fall compared with `pixel`, the trade the paper's loss is built on.
# 2. Fine-tune longer: `gan_steps = 100`. The discriminator's `d_hr` and `d_sr` separate further; the
#    differences between variants grow, and so does the time per variant (linearly in the steps).
# 3. *(Harder)* TV at a weight that acts: `weights = {"pixel": 1.0, "perceptual": 0.0, "adversarial": 0.0,
#    "tv": 1.0}`. The unweighted TV of an output is of order $10^{-2}$, so the term is now a sizeable fraction of the
#    pixel term: expect a lower detail ratio (smoother output) and a lower PSNR-Y. Compare the logged `tv` with the
#    `pixel` term to see why the original weight of $2 \cdot 10^{-8}$ cannot change anything.
