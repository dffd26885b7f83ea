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
# # iSeeBetter in one page
#
# **iSeeBetter** {cite}`chadha2020iseebetter` is a 4x video super-resolution GAN: the generator is RBPN
# {cite}`haris2019rbpn`, the discriminator is SRGAN's {cite}`ledig2017srgan`, and both train with a four-fold loss.
# This chapter is the map of the book: each idea below has its own chapter later.
#
# ## In this chapter
#
# - what video super-resolution (VSR) asks, and the two ways the field makes its low-resolution inputs (BI, BD);
# - how RBPN turns a target frame and its neighbours into one HR frame: back-projection units, a recurrence over
#   the neighbours, the optical flow as an input;
# - the four loss terms and the discriminator's loss exactly as the code computes them, and where the presets
#   depart from the paper's figure;
# - how big the paper's generator is next to the one this profile trains.
#
# ## The problem
#
# A video's HR frames $I^{HR}_t$ are unknown; we see LR frames $I^{LR}_t$ at a quarter of the width and height,
# and must produce $SR_t \approx I^{HR}_t$ from $I^{LR}_{t-k}, \dots, I^{LR}_{t+k}$. For training and testing the
# LR frames are made from HR ones, in one of two ways (chapter 01 has both in code): **BI**, MATLAB's bicubic
# resize, $I^{LR} = \operatorname{imresize}(I^{HR}, 1/4)$; and **BD** {cite}`jo2018duf`, a Gaussian blur
# ($\sigma = 1.6$) followed by keeping every 4th pixel, $I^{LR} = (G_{1.6} * I^{HR})\!\downarrow_4$. iSeeBetter is
# trained and tested on BI.
#
# ## RBPN at a glance
#
# DBPN's **back-projection** {cite}`haris2018dbpn` refines an upscaling by projecting it back down and correcting
# with the error. An *up-projection* unit maps LR features $L$ to HR features:
#
# $$
# H_0 = \operatorname{deconv}(L), \quad L_0 = \operatorname{conv}(H_0), \quad
# H_1 = \operatorname{deconv}(L_0 - L), \quad \text{out} = H_0 + H_1,
# $$
#
# and a *down-projection* unit does the mirror image. RBPN runs such a single-image branch (up, down, up, ...)
# beside a multi-image branch (a ResNet reading the target $L_t$, one neighbour $L_j$ and the flow
# $F_{t \to j}$), once per neighbour, carrying a state:
#
# $$
# \begin{aligned}
# s_0 &= \operatorname{feat}_0(L_t), \\
# h_j &= \operatorname{SISR}(s_{j-1}) + \operatorname{Dec}\big(\operatorname{SISR}(s_{j-1}) -
#   \operatorname{MISR}(\operatorname{feat}_1[L_t, L_j, F_{t \to j}])\big), \\
# s_j &= \operatorname{Enc}(h_j), \qquad
# SR = \operatorname{conv}[h_1, \dots, h_n] \; (+ \operatorname{bicubic}(L_t) \text{ in the small presets}).
# \end{aligned}
# $$
#
# Every step uses the same weights; the HR features $h_j$ of all steps feed the output. The flow comes from the
# classic variational method (chapter 02).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"  # the configuration the rest of this profile trains (shown beside the paper's)
allow_random_vgg = True  # smoke: no VGG weights offline -> explicit opt-in to random features

# %%
import torch

from iseebetter_lib.book import plots
from iseebetter_lib.book.ch00_overview import deviations, loss_terms_demo, loss_variant_rows
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
# The generator is first trained with the pixel term alone, then against the discriminator $D$ (which outputs a
# probability per image) with all four. As the code computes them, with means over pixels and batch:
#
# $$
# \mathcal{L}_G = \alpha\,\ell_{pix}(SR, HR) + \gamma\,\mathrm{MSE}\big(\phi(SR), \phi(HR)\big) -
#   \beta\,\overline{D(SR)} + \delta \cdot 2\big(\overline{(\partial_y SR)^2} + \overline{(\partial_x SR)^2}\big),
# \qquad
# \mathcal{L}_D = 1 - \overline{D(HR)} + \overline{D(SR)},
# $$
#
# with $\ell_{pix}$ the MSE (paper) or L1, $\phi$ frozen VGG features {cite}`simonyan2015vgg` (the perceptual loss
# of {cite}`johnson2016perceptual`), and the weights of the original code ($\alpha = 1$, $\gamma = 0.006$,
# $\beta = 0.001$, $\delta = 2\cdot10^{-8}$; the paper prints none). The paper's figure writes
# $-\beta \log D(SR)$, VGG-19 features and an absolute-difference TV instead; every variant is a configuration
# switch. The table below is generated from the presets, and so is the sentence after it.

# %%
show_md(md_table(loss_variant_rows(["full", preset_name])))
show_md(deviations(preset_name))

# %% [markdown]
# Each weighted term for a bicubic reconstruction of a real 96x96 crop, and for the ground truth itself (the
# adversarial term comes from an *untrained* discriminator: it only shows its scale):

# %%
loss_cfg = preset("full").train.loss
loss_cfg.allow_random_vgg = allow_random_vgg
show_md(vgg_status(loss_cfg))
show_md(md_table(loss_terms_demo(loss_cfg, seed=seed), floatfmt=".3g"))

# %% [markdown]
# ## What this budget shows
#
# This chapter trains nothing: its counts and formulas are exact under every profile. Without ImageNet VGG weights
# (the smoke and laptop profiles opt into random features) the perceptual row above is a random-feature loss, so
# its size says nothing about the paper's; the `full` profile refuses to run without the real weights.
#
# ## Summary
#
# - VSR reconstructs an HR frame from a window of LR frames; the LR frames come from a bicubic resize (BI) or a
#   blur and subsampling (BD), and a method is only comparable with others under the same one.
# - RBPN refines the target's features once per neighbour with back-projection units, reading each neighbour and
#   the optical flow to it, and carries a state from one neighbour to the next.
# - The generator's loss has four weighted terms; the discriminator's is $1 - \overline{D(HR)} + \overline{D(SR)}$.
#   The presets differ from the paper's figure in named, switchable ways.
# - The paper's generator has about 12.8 million parameters; the CPU presets train a far smaller one.
#
# ## Exercises
#
# 1. Set `preset_name = "laptop"` and run the chapter again. Expect the same loss variants as `compact` (both use
#    L1) and the same generator shape: the laptop preset differs in training, not in architecture.
# 2. In the loss cell, set `loss_cfg.adversarial = "log"` before building the table. Expect the adversarial row to
#    change sign and size: $-\log D$ is positive and grows without bound as $D(SR) \to 0$, where $-D$ stays in
#    $[-1, 0]$.
# 3. Set `loss_cfg.pixel = "l1"`. For the bicubic row expect a larger pixel term than with MSE: for errors below 1
#    (images in $[0, 1]$), $|e| > e^2$.
# 4. (Harder) Build `build_generator(dataclasses.replace(preset("full").model, nFrames=3))` and count its
#    parameters. Expect fewer by only a few thousand out of 12.8 million: the recurrence shares its weights across
#    neighbours, and only the output convolution, which reads the $(n - 1)$ HR feature maps, shrinks.
