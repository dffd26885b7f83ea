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
# # Multi-frame: does seeing more frames (and their flow) help?
#
# RBPN's claim is that neighbouring frames, aligned by optical flow, add information a single-image network does
# not have. This chapter tests it at one training budget: the same configuration trained with 2, 3 and 5 frames,
# and with the flow replaced by zeros (the neighbours are still there, the motion information is not). A second
# seed of the reference configuration measures how much two runs of the *same* configuration differ: that spread
# is the table's **noise floor**, and a difference smaller than it is not a result. Each row is scored on the same
# test frames; a finished row is reused when the chapter runs again with the same configuration.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"
rows_dir = "../_build/smoke/runs/frames"
cache_dir = "../_build/smoke/cache"
data_root = None
vid4_root = None  # None: Vid4 from the data home; without it, the embedded held-out clips
frame_step = 4  # score every n-th test frame
overrides = {"train.pretrain_steps": 60, "train.gan_steps": 0}  # the budget every row shares
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
# `vs reference` is each row's PSNR-Y minus the reference's; the verdict compares it with the noise floor (the
# two seeds' difference). The detail ratio is the high-frequency energy of the output over the ground truth's
# (1 = as much fine detail as the original; bicubic is well below 1).

# %%
table = ch03b_frames.table_rows(results, reference, repeat)
show_md(md_table(table, floatfmt=".3f"))
show_md(ch03b_frames.summary_line(results, reference, repeat))
save_figure(ch03b_frames.frames_figure(results, reference, repeat), CHAPTER, "frames_psnr", profile)
save_results(CHAPTER, profile, {"rows": table, "noise_floor_db": ch03b_frames.noise_floor(results, reference, repeat),
                                "test_set": test_set.dataset, "frame_step": frame_step,
                                "per_clip": {n: r["clips"] for n, r in results.items()}});
