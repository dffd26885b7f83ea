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
# # Training
#
# ## In this chapter
#
# - How RBPN, iSeeBetter's generator, turns a low-resolution (LR) target frame and its neighbours into a 4x frame:
#   DBPN's up- and down-projection units {cite}`haris2018dbpn` and RBPN's recurrent projection over the neighbours
#   {cite}`haris2019rbpn`.
# - The two-stage schedule: the generator alone on a pixel loss, then generator and discriminator in turn.
# - The four terms of iSeeBetter's loss {cite}`chadha2020iseebetter` and the discriminator's loss, exactly as this
#   code computes them, and where a preset departs from the paper.
# - Training a model and reading its loss curves; the model lands in `run_dir`, where chapters 05 and 06 read it.
#
# **smoke** trains the `compact` preset (a small RBPN with a bicubic residual path) for a few minutes on the CPU, on
# clips cut from the sample videos; **laptop** trains the same network longer in bf16 on those clips plus panned still
# photographs (the `laptop` preset, the model shipped as `iseebetter_lib/weights/laptop.pt`); **full** does what the paper did: it
# fine-tunes the RBPN authors' published `RBPN_4x.pth` with the four-fold loss for 4 epochs of Vimeo-90K on a GPU
# (`iseebetter fetch rbpn-4x` downloads those weights).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"
run_dir = "../_build/lab/runs/compact"
cache_dir = "../_build/lab/cache"
data_root = None  # None: the embedded sample-video clips; full: a Vimeo-90K septuplet root
overrides = {"train.precision": "bf16", "train.pretrain_steps": 500}  # dotted configuration keys

# %%
import torch

from iseebetter_lib.book import plots
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results
from iseebetter_lib.book.training_runs import describe, experiment_config, run_training
from iseebetter_lib.book.vgg_note import vgg_status

torch.manual_seed(seed)
CHAPTER = "03_training"
cfg = experiment_config(preset_name, run_dir, cache_dir, seed, data_root=data_root, overrides=overrides)

# %%
from pathlib import Path

from iseebetter_lib.book import charts, committed, explain

show_md(md_table(describe(cfg)))
show_md(vgg_status(cfg.train.loss))
print("device:", "cuda" if torch.cuda.is_available() else "cpu", "| torch threads:", torch.get_num_threads())

# %% [markdown]
# ## Back-projection: the up- and down-projection units
#
# A single-image super-resolution network has to invent the high-resolution (HR) detail that the LR frame lacks. DBPN
# {cite}`haris2018dbpn` does it by *iterative back-projection*: it projects its LR features up to HR, projects the
# result back down, and uses the error between that reconstruction and the input to correct the HR estimate. Let
# $\mathrm{Up}_k$ be a transposed convolution and $\mathrm{Dn}_k$ a convolution, both with the same kernel and stride
# (8, 4 and padding 2 at 4x, so they map $h \leftrightarrow 4h$ exactly), each followed by a PReLU. The
# **up-projection unit** maps LR features $L$ to HR features (`models/blocks.py`, `UpBlock`):
#
# $$H_0 = \mathrm{Up}_1(L), \qquad L_0 = \mathrm{Dn}_2(H_0), \qquad H_1 = \mathrm{Up}_3(L_0 - L), \qquad
# \mathrm{UP}(L) = H_0 + H_1 .$$
#
# $L_0 - L$ is the back-projection error: what the first HR guess gets wrong once projected down again. The
# **down-projection unit** mirrors it (`DownBlock`):
#
# $$L_0 = \mathrm{Dn}_1(H), \qquad H_0 = \mathrm{Up}_2(L_0), \qquad L_1 = \mathrm{Dn}_3(H_0 - H), \qquad
# \mathrm{DOWN}(H) = L_0 + L_1 .$$
#
# RBPN's single-image branch (DBPN-S, `models/dbpn.py`) is a 1x1 convolution, then up, down, up, ... units (one fewer
# down than up), and a 1x1 convolution over the concatenated outputs of every up unit, newest first.
#
# ## RBPN: a recurrence over the neighbours
#
# RBPN {cite}`haris2019rbpn` adds what a single image cannot have: the neighbouring frames $x_j$, each with the
# optical flow $F_{t \to j}$ from the target to it (chapter 02). Starting from the state $S_0 = \mathrm{feat0}(x_t)$,
# it visits the neighbours one at a time with the same weights (`models/rbpn.py`):
#
# $$h_0 = \mathrm{DBPN}(S_{j-1}), \qquad h_1 = \mathrm{MISR}\big(\mathrm{feat1}([x_t, x_j, F_{t\to j}])\big), \qquad
# H_j = h_0 + \mathrm{Dec}(h_0 - h_1), \qquad S_j = \mathrm{Enc}(H_j).$$
#
# $h_0$ is the single-image estimate from the current state; $h_1$ is what the pair (target, neighbour, flow) says
# through residual blocks and a transposed convolution to HR (MISR, the multi-image branch); their difference is a
# projection error, decoded into a correction. $\mathrm{Enc}$ projects the corrected HR features back to LR: the
# state for the next neighbour. The output is a 3x3 convolution over all the $H_j$ concatenated.

# %%
show_md(explain.model_sentence(cfg.model))

# %% [markdown]
# ## Two stages
#
# **Pre-training** fits the generator alone to the pixel loss: it learns to be faithful before it is asked to look
# real. The **adversarial stage** then alternates, at every step, (1) a discriminator update on real HR patches against
# the generator's output (detached, so the generator is not updated), and (2) a generator update on the four-fold
# loss, with the discriminator's score computed afresh by the discriminator just updated. The discriminator is
# SRGAN's {cite}`ledig2017srgan`: a convolutional classifier ending in a sigmoid, one probability per image that it
# is a real HR patch.

# %%
show_md(explain.schedule_sentence(cfg.train))

# %% [markdown]
# ## The loss, as the code computes it
#
# With $\hat y$ the generator's output and $y$ the HR frame, the generator minimises the weighted sum (`losses.py`)
#
# $$\mathcal L_G = w_\text{pix}\,\ell_\text{pix}(\hat y, y) +
#   w_\text{per}\,\mathrm{MSE}\big(\phi(\hat y), \phi(y)\big) + w_\text{adv}\,\ell_\text{adv}(D(\hat y)) +
#   w_\text{tv}\,\mathrm{TV}(\hat y),$$
#
# where $\phi$ are the features of a frozen VGG network {cite}`simonyan2015vgg` (the perceptual loss of
# {cite}`johnson2016perceptual`) and $D(\hat y) \in (0, 1)$ is the discriminator's probability that $\hat y$ is real.
# The discriminator minimises its own loss $\mathcal L_D$ (last row). The paper prints the loss with MSE,
# $-\log D(\hat y)$, VGG-19 features and absolute differences in TV, and no weights; the original code that produced
# its numbers computes the variants and weights below, and so does this run unless its configuration says otherwise
# (overline: the mean over the batch, and over the pixels where there are any).

# %%
show_md(md_table(explain.loss_rows(cfg.train.loss), floatfmt="g"))

# %% [markdown]
# Two differences matter. $-\overline{D(\hat y)}$ has the gradient $-\nabla D$, while the paper's $-\log D(\hat y)$
# has $-\nabla D / D$: the log form pushes hardest exactly when the discriminator is sure the output is fake
# ($D \to 0$), the "non-saturating" loss of GAN practice; the mean form pushes equally throughout. And with the
# original code's weights ($6 \cdot 10^{-3}$ perceptual, $10^{-3}$ adversarial, $2 \cdot 10^{-8}$ TV) beside a
# pixel loss of order $10^{-2}$, the three extra terms are small corrections: chapter 04 measures how small.

# %%
summary = run_training(cfg, progress=False)
print(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s -> run_dir/"
      f"{Path(summary['checkpoint']).resolve().relative_to(Path(run_dir).resolve()).as_posix()}")

# %% [markdown]
# ## Loss curves
#
# Means over each logging window; blue: pixel pre-training, red: the adversarial stage (weighted terms). A stage
# that logged only a few points is shown as a table instead: two points joined by a line look like a trend they
# cannot show.

# %%
dense, sparse = charts.split_stages(summary["history"])
if dense:
    save_figure(plots.loss_curves(dense, title=f"{preset_name}: training losses"), CHAPTER, "loss_curves", profile)
if sparse:
    show_md(md_table(charts.loss_table(sparse), floatfmt=".4g"))
last = summary["history"][-1]
save_results(CHAPTER, profile, {"steps": summary["steps"], "seconds": summary["seconds"], "last_logged": last,
                                "config": summary["config"]});

# %% [markdown]
# ## The committed laptop run
#
# The repository carries the results of one complete run of the book's `laptop` profile: the model it trained is the
# one shipped as `iseebetter_lib/weights/laptop.pt`. Beside this run:

# %%
laptop = committed.show_committed(CHAPTER, figures=("loss_curves",), floatfmt=".4g")
if laptop:
    n = laptop["numbers"]
    show_md(f"This run: {summary['steps']:,} steps in {summary['seconds']:.0f} s, last logged loss "
            f"{last['loss']:.4g}. The committed laptop run: {n['steps']:,} steps in {n['seconds']:.0f} s, last "
            f"logged loss {n['last_logged']['loss']:.4g}. Training loss is measured on training patches; whether "
            "the model is any good is measured on held-out frames, in chapter 05.")

# %% [markdown]
# ## Summary
#
# - An up-projection unit estimates HR features, projects them back to LR, and adds the up-projected error; a
#   down-projection unit does the same the other way. DBPN chains them.
# - RBPN runs DBPN on a recurrent state and, for each neighbour, corrects the single-image estimate with what the
#   target, the neighbour and their flow say; the corrected features become the next state.
# - Training is two stages: pixel loss alone, then discriminator and generator in turn on the four-fold loss.
# - The code's loss is the original code's (its weights, $-D$ rather than $-\log D$, VGG-16, squared TV); the paper's
#   variants are one configuration key each.
#
# ## Exercises
#
# 1. Train longer: `overrides={"train.precision": "bf16", "train.pretrain_steps": 1000}`. The training time doubles
#    and the last logged pixel loss falls a little further; in chapter 05 the gain over bicubic should grow, though
#    less than the loss suggests (the `laptop` preset's measurements found that on the sample videos alone the
#    held-out score peaks early: more varied data is the stronger lever).
# 2. The paper's pixel loss: add `"train.loss.pixel": "mse"`. The logged loss is now a mean *square* of errors of a
#    few hundredths, so it is far smaller in value; that says nothing about quality. Compare chapter 05's PSNR instead:
#    expect a difference of hundredths of a dB either way (L1 is often as good for PSNR as MSE, which PSNR measures).
# 3. A longer adversarial stage: `"train.gan_steps": 200`. Watch `d_hr` and `d_sr` (the discriminator's mean scores
#    on real and generated patches) move apart from 0.5 as it learns to tell them apart, and the weighted adversarial
#    term stay about 100 times below the pixel term.
# 4. *(Harder)* The paper's adversarial term: add `"train.loss.adversarial": "log"` and compare the logged
#    `adversarial` values with exercise 3's; explain from the gradients above why it is larger when `d_sr` is small.
