# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Ablation: the five loss variants side by side
#
# Reads the `ablation.json` that each run of chapter 04 wrote and compares them in one table and one figure.
# Every variant fine-tuned chapter 03's generator with its own loss. One variant also ran with a second seed: the
# difference between those two runs of the *same* loss is the **noise floor**, and a difference between variants
# smaller than it is not a result. In the smoke profile the fine-tuning is a few CPU steps, so every difference is
# below that floor: the smoke table shows the machinery, not the paper's effects. The `laptop` profile fine-tunes
# long enough for the adversarial term to act; its tables and figures are committed under `figures/laptop/`.
# Without downloaded VGG weights the perceptual term uses random VGG features (stated in each variant's notebook).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
ablation_dir = "../_build/smoke/runs/ablation"
variants = ["pixel", "perceptual", "adversarial", "tv", "all_four"]
repeats = {}  # second-seed variant -> the variant it repeats: their difference is the noise floor
base = "pixel"  # the variant the others are compared with
crop_box = "calendar"  # zoom region: a Vid4 clip's box by name, or [y, x, h, w] in HR pixels

# %%
from iseebetter_lib.book.ch04_ablation import (ablation_figure, ablation_markdown, collect_ablation, crop_images,
                                                noise_floor_rows, term_ratios)
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results

CHAPTER = "04b_ablation_compare"
rows = collect_ablation(ablation_dir, variants)
assert len(rows) == len(variants)
show_md(ablation_markdown(rows))

# %% [markdown]
# ## Against the noise floor
#
# Each variant's PSNR-Y minus the pixel-only variant's, judged against the noise floor. The *detail ratio* is a
# perceptual proxy that needs no downloaded network: the high-frequency energy of the output over the ground
# truth's (1 = as much fine detail as the original; blurry outputs are below 1, noisy or over-sharpened above).

# %%
floor, judged = noise_floor_rows(rows, base, repeats)
show_md(f"**Noise floor: {floor:.4f} dB** (the largest difference between a variant and its second-seed run)."
        if repeats else "No second-seed run in this profile: no noise floor to judge the differences by.")
show_md(md_table(judged, floatfmt=".4f"))
if repeats and all(r["verdict"] != "beyond the noise floor" for r in judged):
    show_md("**Every difference between the loss variants here is below the noise floor.**")

# %% [markdown]
# The final-loss columns are the *weighted* terms of the last GAN-stage steps: with the original code's
# weights they show how much each term can move the generator compared with the pixel term.

# %%
show_md(md_table(term_ratios(rows), floatfmt=".2g"))

# %%
save_figure(ablation_figure(rows, base, floor, repeats), CHAPTER, "ablation", profile);

# %% [markdown]
# ## Every variant on the same region
#
# The same frame and zoomed region for bicubic, each variant and the ground truth.

# %%
from iseebetter_lib.book import plots
from iseebetter_lib.book.zoom import zoom_box

images = crop_images(ablation_dir, variants)
box = zoom_box(crop_box, images["ground truth"].shape)
save_figure(plots.zoom_crops(images, box, context="ground truth"), CHAPTER, "ablation_crops", profile)
save_results(CHAPTER, profile, {"rows": rows, "noise_floor_db": floor, "judged": judged, "crop_box": list(box)});
