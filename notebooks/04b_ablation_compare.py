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
# Every variant fine-tuned chapter 03's generator with its own loss. In the smoke profile that is a few CPU steps:
# differences of hundredths of a dB are within run-to-run noise, and the perceptual term uses random VGG features
# (stated in each variant's notebook).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
ablation_dir = "../_build/smoke/runs/ablation"
variants = ["pixel", "perceptual", "adversarial", "tv", "all_four"]

# %%
from iseebetter_lib.book.ch04_ablation import ablation_figure, ablation_markdown, collect_ablation, term_ratios
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.figures import save_figure

CHAPTER = "04b_ablation_compare"
rows = collect_ablation(ablation_dir, variants)
assert len(rows) == len(variants)
show_md(ablation_markdown(rows))

# %% [markdown]
# The final-loss columns are the *weighted* terms of the last GAN-stage steps: with the original code's
# weights they show how much each term can move the generator compared with the pixel term.

# %%
show_md(md_table(term_ratios(rows), floatfmt=".2g"))

# %%
save_figure(ablation_figure(rows), CHAPTER, "ablation", profile);
