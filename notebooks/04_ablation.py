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
# # Ablation of the four-fold loss: one variant
#
# This notebook is executed once per loss variant (papermill parameter `variant` and the loss `weights`): pixel
# loss only, pixel + perceptual, pixel + adversarial, pixel + TV, and all four (the paper's loss). As in the paper,
# the loss terms act in the adversarial fine-tuning stage: every variant starts from the same generator (smoke:
# the one chapter 03 pre-trained, `init_run_dir`; full: the published `RBPN_4x.pth`, as chapter 03), runs the same
# seed, data and schedule with its own loss,
# scores the result on Vid4 frames and writes `ablation_dir/<variant>/ablation.json`; chapter 04b compares them.
# **smoke** runs are short (a few fine-tuning steps on CPU): they show every variant training end to end, and their
# differences are below the noise floor that chapter 04b measures (a second seed of one variant); **laptop** runs
# fine-tune long enough for the adversarial term to act, with results committed under `figures/laptop/`.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
variant = "all_four"
weights = {"pixel": 1.0, "perceptual": 0.006, "adversarial": 0.001, "tv": 2e-8}
preset_name = "tiny"
ablation_dir = "../_build/smoke/runs/ablation"
cache_dir = "../_build/smoke/cache"
data_root = None
init_run_dir = None  # chapter 03's run: variants fine-tune its generator
pretrain_steps = 20
gan_steps = 20
eval_frames = 2  # Vid4 frames per clip scored (0: all)
frame_step = 1  # score every n-th of them
crop_clip = "calendar"  # the clip whose first scored frame chapter 04b shows for every variant
vid4_root = None  # None: Vid4 from the data home; without it, the embedded held-out clips
overrides = {}

# %%
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.fallbacks import chapter_test_set

test_set = chapter_test_set(vid4_root, cache_dir)  # Vid4, else the embedded held-out clips (noted in bold)
show_md(test_set.note)

# %%
from pathlib import Path

import torch

from iseebetter_lib.book import plots
from iseebetter_lib.book.ch04_ablation import ablation_markdown, score_variant
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results
from iseebetter_lib.book.training_runs import describe, experiment_config, run_training, trained_checkpoint
from iseebetter_lib.book.vgg_note import vgg_status

# %%
torch.manual_seed(seed)
CHAPTER = "04_ablation"
out_dir = Path(ablation_dir) / variant
start = {"train.init_weights": str(trained_checkpoint(init_run_dir))} if init_run_dir else {}
cfg = experiment_config(preset_name, out_dir, cache_dir, seed, data_root=data_root, weights=weights,
                        overrides={"train.pretrain_steps": pretrain_steps, "train.gan_steps": gan_steps, **start,
                                   **overrides})
show_md(f"Generator starts from `{cfg.train.init_weights}`" if cfg.train.init_weights else
        "Generator starts from scratch")
show_md(f"**Variant `{variant}`**")
show_md(md_table(describe(cfg)))
if weights.get("perceptual", 0):
    show_md(vgg_status(cfg.train.loss))

# %%
summary = run_training(cfg, progress=False)
print(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s")
save_figure(plots.loss_curves(summary["history"], title=f"ablation {variant}"), CHAPTER, f"loss_{variant}",
            profile);

# %%
result = score_variant(variant, weights, summary, out_dir, eval_frames=eval_frames, vid4_root=test_set.root,
                       dataset=test_set.dataset, frame_step=frame_step,
                       crop_clip=crop_clip if test_set.is_vid4 else test_set.profile_clip)
show_md(ablation_markdown([result["row"]]))
save_results(CHAPTER, profile, {"row": result["row"], "history": summary["history"]});
