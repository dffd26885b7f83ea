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
# # Multi-frame: more frames, with and without flow
#
# ## In this chapter
#
# - Why neighbouring frames can add detail a single frame lacks, and why the network must be told where their pixels
#   came from (alignment, here by optical flow).
# - A controlled experiment: the same training with different numbers of frames, and with the flow replaced by
#   zeros, all at one budget and scored on the same test frames.
# - The **noise floor**: how much two runs of the *same* configuration differ, and why a difference smaller than
#   that is "not resolved" rather than a result.
#
# ## Why more frames should help
#
# A 4x-downscaled frame keeps one value per 4x4 block of the scene; the detail finer than that is gone from it. But
# the camera and the scene move between frames: a neighbour samples the same surfaces at slightly shifted
# positions, so a stack of LR frames holds information that no single one does (the classic argument for
# multi-frame super-resolution). To use it, a network has to know which pixel of the neighbour shows which point of
# the target: the frames must be *aligned*. RBPN {cite}`haris2019rbpn` does not warp the neighbours; it hands the
# flow $F_{t \to j}$ (two channels, from chapter 02's variational method {cite}`brox2004flow`) to its multi-image
# branch as input and lets the network learn to use it. Other networks learn the motion implicitly, without any flow
# input {cite}`jo2018duf`.
#
# Two controls make the claim testable. **Frame count**: the same network with more or fewer frames (a 2-frame model
# sees one neighbour, a 7-frame model six). **Zero flow**: the same neighbours, but the flow channels set to zero, so
# the motion information is gone while everything else stays: if zero flow scores as well as real flow, this network,
# at this budget, is not using the flow.
#
# ## The noise floor
#
# Two trainings of one configuration with different seeds (initial weights and sample order) end at different
# PSNRs. Their difference is this table's noise floor: a row that differs from the reference by less than it could
# differ by chance, and is reported as **not resolved**. One pair of seeds is a single sample of that spread, so the
# floor is itself rough; a careful study runs several seeds per row and reports an interval.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"
rows_dir = "../_build/lab/runs/frames"
cache_dir = "../_build/lab/cache"
data_root = None
vid4_root = None  # None: Vid4 from the data home; without it, the embedded held-out clips
frame_step = 8  # score every n-th test frame
overrides = {"train.pretrain_steps": 40, "train.gan_steps": 0}  # the budget every row shares
rows = [{"name": "3 frames", "frames": 3}, {"name": "3 frames, seed 2", "frames": 3, "seed": 124},
        {"name": "2 frames", "frames": 2}, {"name": "3 frames, zero flow", "frames": 3, "flow": "zero"}]
reference = "3 frames"
repeat = "3 frames, seed 2"

# %%
from pathlib import Path

import torch

from iseebetter_lib.book import ch03b_frames
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.fallbacks import chapter_test_set
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results
from iseebetter_lib.book.training_runs import describe, experiment_config

torch.manual_seed(seed)
CHAPTER = "03b_frames"
ch03b_frames.check_rows(rows, reference, repeat)
test_set = chapter_test_set(vid4_root, cache_dir)
show_md(test_set.note)
configs = {r["name"]: experiment_config(preset_name, Path(rows_dir) / f"row{i}", cache_dir, seed,
                                        data_root=data_root, overrides={**overrides, **ch03b_frames.row_overrides(r)})
           for i, r in enumerate(rows)}

# %%
from iseebetter_lib.book import committed, explain

show_md(explain.rows_sentence(rows, reference, repeat))
show_md("The shared budget (reference row):\n\n" + md_table(describe(configs[reference])))

# %%
results = {}
for row in rows:
    results[row["name"]] = ch03b_frames.run_row(configs[row["name"]], row, test_set, frame_step)
    r = results[row["name"]]
    print(f"{row['name']}: {r['steps']} steps in {r['train_s']:.0f} s, PSNR-Y {r['psnr_y']:.3f} dB")

# %% [markdown]
# ## The table
#
# `vs reference` is each row's PSNR-Y minus the reference's; the verdict compares it with the noise floor (the two
# seeds' difference). PSNR-Y and SSIM-Y are chapter 05's standard protocol. The detail ratio is the high-frequency
# energy of the output over the ground truth's (1 = as much fine detail as the original; bicubic is well below 1).

# %%
table = ch03b_frames.table_rows(results, reference, repeat)
show_md(md_table(committed.plain_verdicts(table), floatfmt=".3f"))
show_md(ch03b_frames.summary_line(results, reference, repeat))
save_figure(ch03b_frames.frames_figure(results, reference, repeat), CHAPTER, "frames_psnr", profile)
save_results(CHAPTER, profile, {"rows": table, "noise_floor_db": ch03b_frames.noise_floor(results, reference, repeat),
                                "test_set": test_set.dataset, "frame_step": frame_step,
                                "per_clip": {n: r["clips"] for n, r in results.items()}});

# %% [markdown]
# ## The committed laptop run
#
# The `laptop` profile runs the same machinery at a larger budget; its committed table and figure:

# %%
laptop = committed.show_committed(CHAPTER, figures=("frames_psnr",))
if laptop:
    n = laptop["numbers"]
    unresolved = [r["row"] for r in n["rows"] if r.get("verdict") == "below the noise floor"]
    show_md(f"There the noise floor is {n['noise_floor_db']:.3f} dB (scored on "
            f"{explain.dataset_name(n.get('test_set'))}); "
            f"{len(unresolved)} of the {len(n['rows']) - 2} compared rows are not resolved"
            + (f" ({', '.join(unresolved)})." if unresolved else "."))

# %% [markdown]
# ## What this budget shows

# %%
gains = [r["psnr_y"] - r["torch_bicubic_psnr_y"] for r in results.values()]
steps = sorted({r["steps"] for r in results.values()})
show_md(f"Each row trained {', '.join(map(str, steps))} steps; its gain over its own bicubic base (chapter 05 "
        f"explains it) ranges from {min(gains):+.3f} to {max(gains):+.3f} dB, and the noise floor is "
        f"{ch03b_frames.noise_floor(results, reference, repeat):.3f} dB.")

# %% [markdown]
# A short run of a small network shows the experiment's design and its noise floor; whether it resolves the paper's
# effect is what the verdicts above say. The paper's gains from more frames come from a model about 50 times larger
# than the `compact` preset, trained for days on Vimeo-90K {cite}`xue2019toflow`.
#
# ## Summary
#
# - Neighbouring frames sample the scene at shifted positions; aligned, they hold detail a single LR frame lacks.
# - RBPN takes the alignment as input: the flow from the target to each neighbour, two extra channels per neighbour.
# - The zero-flow row keeps the neighbours but removes the motion: it tests whether the network uses the flow.
# - A difference between rows means something only against the spread between seeds of the same configuration.
#
# ## Exercises
#
# 1. Add a row: append `{"name": "5 frames", "frames": 5}` to `rows`. Its training takes about twice as long as the
#    3-frame row (the recurrence runs once per neighbour); at this budget expect its difference to be not resolved.
# 2. Score more frames: `frame_step = 2`. The PSNR of every row moves a little (different frames), the rows' order may
#    change, and the noise floor does not shrink: the spread comes from training, not from the frames scored.
# 3. A longer budget: `overrides = {"train.pretrain_steps": 400, "train.gan_steps": 0}`. Every row gains more over
#    bicubic; check whether the differences between rows now exceed the noise floor.
# 4. *(Harder)* Estimate the floor better: add `{"name": "3 frames, seed 3", "frames": 3, "seed": 125}` and compare
#    the three reference seeds' spread with the single difference the table uses.
