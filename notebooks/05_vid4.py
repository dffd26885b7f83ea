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
# # Vid4: Table 3 reproduced
#
# The model trained in chapter 03 on the four Vid4 clips (4x, BI degradation), scored in **both protocols**:
# the standard one (Y channel of BT.601, MATLAB-bicubic LR, no border crop, SSIM on Y) and the original iSeeBetter
# test script's (RGB PSNR with the crop `[1+s : H-s, 1+s : W-s]`). Beside it: the paper's Table 3 (protocol not
# stated), MATLAB bicubic on the same frames, and torch's bicubic — which our small model adds as its residual
# path, so the **learned gain** is the model's PSNR minus torch bicubic's. The smoke profile scores every 4th frame.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
run_dir = "../_build/smoke/runs/compact"
vid4_root = None  # None: Vid4 from the data home (`iseebetter fetch vid4`)
cache_dir = "../_build/smoke/cache"  # without Vid4: the embedded sample videos' held-out clips, built here
frame_step = 4
profile_frames = 8  # consecutive frames for the temporal profile
published = False  # also score the published RBPN and iSeeBetter generators when their weights are present
compare_shipped = True  # also score the shipped model (weights/laptop.pt) on the same frames, when present
ship_to = None  # laptop profile: ship this chapter's model to this folder as laptop.pt with its model card

# %%
from pathlib import Path

import torch

from iseebetter_lib.book import ch05_vid4, plots, widgets
from iseebetter_lib.book.display import md_table, show_md, write_json
from iseebetter_lib.book.fallbacks import chapter_test_set
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.book.results import save_results
from iseebetter_lib.book.temporal_profile import profile_row, temporal_profile_videos
from iseebetter_lib.book.training_runs import load_trained
from iseebetter_lib.book.zoom import visual_sets, zoom_box
from iseebetter_lib.evaluation.evaluate import to_json_dict
from iseebetter_lib.evaluation.tables import gain_rows, results_table

torch.manual_seed(seed)
CHAPTER = "05_vid4"
test_set = chapter_test_set(vid4_root, cache_dir)
show_md(test_set.note)  # empty with Vid4
device = "cuda" if torch.cuda.is_available() else "cpu"
generator, model_cfg, inference_cfg = load_trained(run_dir, device=device)
print(f"model: {sum(p.numel() for p in generator.parameters()):,} parameters, {model_cfg.nFrames} frames, "
      f"residual={model_cfg.residual}")

# %%
result = ch05_vid4.evaluate_model(generator, model_cfg, test_set.root, frame_step, inference_cfg,
                                  dataset=test_set.dataset, device=device)
write_json(Path(run_dir) / "vid4.json", to_json_dict(result))
show_md(results_table(result))

# %% [markdown]
# ## The learned gain
#
# Y-PSNR per clip: our model, MATLAB bicubic, torch bicubic (the model's own residual base) and the differences.

# %%
rows = gain_rows(result)
show_md(md_table(rows, floatfmt=".3f"))
show_md(ch05_vid4.verdict(rows))
save_results(CHAPTER, profile, {"gain_rows": rows, "average": result["average"], "test_set": test_set.dataset,
                                "frame_step": frame_step,
                                "clips": ch05_vid4.clip_averages(result)});

# %% [markdown]
# ## Beside the shipped model
#
# The repository ships a model trained by this book's `laptop` profile (`weights/laptop.pt`, with its model card
# `weights/laptop.md`); `iseebetter upscale` and `iseebetter evaluate` use it when no `--weights` is given. Here it
# is scored on the same frames as the model trained above.

# %%
from iseebetter_lib.models.shipped import shipped_weights
from iseebetter_lib.models.weights import load_generator_file

shipped = shipped_weights() if compare_shipped and not ship_to else None
if shipped is None:
    print("no shipped model to compare with" if not ship_to else "this run produces the shipped model")
else:
    s_net, s_cfg, s_inf = load_generator_file(shipped, device=device)
    s_result = ch05_vid4.evaluate_model(s_net, s_cfg, test_set.root, frame_step, s_inf, dataset=test_set.dataset,
                                        device=device)
    show_md(md_table([{"model": "trained in chapter 03", **ch05_vid4.score_row(test_set.dataset, result)},
                      {"model": f"shipped ({shipped.name})", **ch05_vid4.score_row(test_set.dataset, s_result)}],
                     floatfmt=".3f"))

# %% [markdown]
# ## Visual comparison
#
# As in the paper's figures: the frame with the zoomed region marked, then bicubic, ours and the ground truth.

# %%
sets = visual_sets(result, test_set.root, test_set.dataset)
if shipped is not None:
    for clip, images in visual_sets(s_result, test_set.root, test_set.dataset).items():
        sets[clip] = {"bicubic": images["bicubic"], "ours": sets[clip]["ours"], "shipped": images["ours"],
                      "ground truth": images["ground truth"]}
for clip, images in sets.items():
    save_figure(plots.zoom_crops(images, zoom_box(test_set.zoom_boxes[clip], images["ground truth"].shape),
                                 context="ground truth"), CHAPTER, f"zoom_{clip}", profile)

# %% [markdown]
# ## Temporal profiles
#
# One fixed image row (through the calendar's lettering) stacked over consecutive frames: temporal flicker shows
# as horizontal streaks, blur as smeared vertical structures.

# %%
videos = temporal_profile_videos(generator, model_cfg, test_set.root, profile_frames, inference_cfg,
                                 clip=test_set.profile_clip, crop=test_set.profile_crop,
                                 dataset=test_set.dataset, device=device)
save_figure(plots.temporal_profiles(videos, profile_row(videos, test_set.profile_row)), CHAPTER,
            "temporal_profile", profile);

# %% [markdown]
# ## Beside the published generators
#
# With `published` set and the published weights in the data home (`iseebetter fetch`): bicubic, the RBPN
# authors' `RBPN_4x.pth` (our starting point), iSeeBetter's `netG_epoch_4_1.pth` and ours, on the same frames.

# %%
if published and test_set.is_vid4:
    from iseebetter_lib.book import published_models

    status = published_models.published_status()
    missing = published_models.missing_line(status)
    if missing:
        print(missing)
    else:
        side = {"bicubic": result["baselines"]["bicubic"],
                **published_models.evaluate_published(status, test_set.root, frame_step, device=device), "ours": result}
        show_md(md_table(published_models.table_rows(side, "y")))
        show_md(md_table(published_models.table_rows(side, "rgb", paper=False)))
        for clip, images in published_models.zoom_sets({k: side[k] for k in side if k != "bicubic"},
                                                        test_set.root).items():
            images = {"bicubic": sets[clip]["bicubic"], **images}
            save_figure(plots.zoom_crops(images, zoom_box(clip, images["ground truth"].shape),
                                         context="ground truth"), CHAPTER, f"published_zoom_{clip}", profile)

# %% [markdown]
# ## Shipping the model
#
# The `laptop` profile ships the model it trained: `ship_to/laptop.pt` with a model card (configuration, data,
# steps, wall time, Vid4 and held-out scores, the command that reproduces it).

# %%
if ship_to:
    from iseebetter_lib.models.shipped import ship_generator

    heldout = ch05_vid4.heldout_result(generator, model_cfg, cache_dir, inference_cfg, device=device)
    scores = [ch05_vid4.score_row("Vid4" if test_set.is_vid4 else "held-out clips", result),
              ch05_vid4.score_row("sample-video held-out clips", heldout)]
    card = ch05_vid4.model_card(run_dir, scores, profile)
    weights_file, card_file = ship_generator(Path(run_dir) / "generator.pt", ship_to, card, overwrite=True)
    show_md(md_table(scores, floatfmt=".3f"))
    print(f"shipped {weights_file} ({weights_file.stat().st_size / 1e6:.1f} MB) and {card_file}")

# %%
if interactive:
    widgets.show(widgets.frame_compare(videos))
    widgets.show(widgets.before_after(sets[test_set.profile_clip]["bicubic"], sets[test_set.profile_clip]["ours"]))
