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
# # iSeeBetter in one page
#
# **iSeeBetter** (Chadha, Britto, Roja; *Computational Visual Media* 2020) is a 4x video super-resolution GAN:
#
# - **Generator: RBPN** (recurrent back-projection network). For a target low-resolution (LR) frame and each of
#   its neighbours, a *single-image* branch (DBPN-S: iterative up/down back-projection) and a *multi-image* branch
#   (a ResNet reading the target, the neighbour and the optical flow between them) produce high-resolution (HR)
#   features; a decoder fuses them and an encoder carries the result back to LR as the state for the next
#   neighbour. The HR features of all steps are concatenated into the output frame.
# - **Discriminator: SRGAN's** (eight conv blocks, one score per image).
# - **Loss, four-fold**: pixel MSE + VGG perceptual + adversarial + total variation.
# - **Flow**: classic coarse-to-fine variational optical flow (C. Liu's `pyflow`), re-implemented here.
#
# This chapter draws the architecture *from the model object itself* and shows the loss terms on a real image.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"  # the configuration the rest of this profile trains (shown beside the paper's)
allow_random_vgg = True  # smoke: no VGG weights offline -> explicit opt-in to random features

# %%
import torch

from iseebetter_lib.book import plots
from iseebetter_lib.book.ch00_overview import loss_terms_demo
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.vgg_note import vgg_status
from iseebetter_lib.config import preset
from iseebetter_lib.models import Discriminator, build_generator

torch.manual_seed(seed)
CHAPTER = "00_overview"

# %% [markdown]
# ## The generator, counted from its modules
#
# Parameter counts per branch, read from the `RBPN` object for the paper's configuration (`full` preset) and for
# the small configuration this profile trains.

# %%
paper = build_generator(preset("full").model)
ours = build_generator(preset(preset_name).model)
counts = {"paper (full)": plots.branch_parameters(paper), preset_name: plots.branch_parameters(ours)}
rows = [{"branch": b, **{k: v[b] for k, v in counts.items()}} for b in counts["paper (full)"]]
show_md(md_table(rows))
print(f"SRGAN discriminator: {sum(p.numel() for p in Discriminator().parameters()):,} parameters")
assert counts["paper (full)"]["total"] == 12_771_943  # the published RBPN size

# %%
save_figure(plots.architecture_diagram(paper), CHAPTER, "rbpn_paper", profile);

# %%
save_figure(plots.architecture_diagram(ours), CHAPTER, f"rbpn_{preset_name}", profile);

# %% [markdown]
# The module tree (two levels) of the paper's generator:

# %%
print(plots.module_tree(paper, depth=2))

# %% [markdown]
# ## The four loss terms
#
# $$
# \mathcal{L}_G = \alpha\,\mathrm{MSE}(SR, HR) + \gamma\,\|\phi(SR) - \phi(HR)\|^2 - \beta \log D(SR) +
#   \delta\,\mathrm{TV}(SR)
# $$
#
# with $\phi$ VGG features. The paper prints no weights; the original code uses
# $\alpha = 1$, $\gamma = 0.006$ (VGG-16), $\beta = 0.001$ (with $-D(SR)$), $\delta = 2\cdot10^{-8}$ (squared TV).
# Below: each weighted term for a bicubic reconstruction of a real 96x96 crop, and for the ground truth itself
# (the adversarial term comes from an *untrained* discriminator: it only shows its scale).

# %%
loss_cfg = preset("full").train.loss
loss_cfg.allow_random_vgg = allow_random_vgg
show_md(vgg_status(loss_cfg))
show_md(md_table(loss_terms_demo(loss_cfg, seed=seed), floatfmt=".3g"))
