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
# # Training
#
# iSeeBetter trains in two stages: the generator alone on the pixel loss (pre-training), then generator and
# discriminator alternately with the four-fold loss. **smoke** trains the `compact` preset (a small RBPN with a
# bicubic residual path, 3 frames) for a few minutes on the CPU, on clips cut from the sample videos; **laptop**
# trains the same network 4,800 steps in bf16 on the sample-video clips plus panned still photographs (the `laptop`
# preset, about 12 minutes on 2 cores; chapter 01 shows the stills, the preset lists the measurements that chose
# it), the model chapter 05 ships as `weights/laptop.pt`; **full**
# does what the paper did: it fine-tunes the RBPN authors' published `RBPN_4x.pth` (no pixel pre-training; the
# discriminator starts from scratch) with the four-fold loss for 4 epochs of Vimeo-90K on a GPU (`iseebetter fetch
# RBPN_4x` downloads the weights). The checkpoint goes to `run_dir`, where chapters 05 and 06 read it
# (`run_dir/book_result.json` names it).

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
preset_name = "compact"
run_dir = "../_build/smoke/runs/compact"
cache_dir = "../_build/smoke/cache"
data_root = None  # None: the embedded sample-video clips; full: a Vimeo-90K septuplet root
overrides = {}  # dotted configuration keys, e.g. {"train.pretrain_steps": 100}

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
show_md(md_table(describe(cfg)))
show_md(vgg_status(cfg.train.loss))
print("device:", "cuda" if torch.cuda.is_available() else "cpu", "| torch threads:", torch.get_num_threads())

# %%
summary = run_training(cfg, progress=False)
print(f"trained {summary['steps']} steps in {summary['seconds']:.0f} s -> {summary['checkpoint']}")

# %% [markdown]
# ## Loss curves
#
# Means over each logging window; blue: pixel pre-training, red: four-fold GAN stage (weighted terms).

# %%
save_figure(plots.loss_curves(summary["history"], title=f"{preset_name}: training losses"), CHAPTER,
            "loss_curves", profile)
last = summary["history"][-1]
show_md(md_table([{"last logged step": k, "value": v} for k, v in last.items()
                  if isinstance(v, (int, float)) and k != "time"], floatfmt=".4g"))
save_results(CHAPTER, profile, {"steps": summary["steps"], "seconds": summary["seconds"], "last_logged": last,
                                "config": summary["config"]});
