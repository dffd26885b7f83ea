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
# - A controlled experiment: one frame (DBPN, the single-image branch alone), three and seven frames, and three
#   frames with the flow replaced by zeros, all at one budget and scored on the same test frames.
# - A study **paired by seed**: every row trains once per seed, runs with the same seed see the same samples and
#   start from the same weights where the shapes allow, and each row is compared with the reference seed by seed.
# - The verdict: an effect is **resolved** when its interval excludes 0, otherwise **not resolved at this budget**,
#   and the interval's half-width says how large an effect the study could have missed.
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
# Three controls make the claim testable. **One frame**: DBPN {cite}`haris2018dbpn`, RBPN's single-image branch as
# a model of its own (the paper's Table 3 compares it with RBPN and iSeeBetter {cite}`chadha2020iseebetter`), trained
# by the same trainer on the same samples. **Frame count**: the same network with three or seven frames (two or six
# neighbours). **Zero flow**: the same neighbours, but the flow channels set to zero, so the motion information is
# gone while everything else stays: if zero flow scores as well as real flow, this network, at this budget, is not
# using the flow.
#
# ## Pairing by seed, and the interval
#
# Two trainings of one configuration with different seeds (initial weights and sample order) end at different
# PSNRs, by a few hundredths of a dB at this scale, as much as the effects we look for. Two things shrink that
# noise. **Pairing**: a seed fixes the order of the samples (the sampler and each crop depend only on the seed), and
# every row starts from the reference's initial weights of that seed wherever the shapes allow (the 7-frame RBPN
# differs from the 3-frame one only in its output layer; DBPN takes the reference's `feat0` and single-image
# branch), so two rows trained with one seed share much of their luck, and their *difference* $d_s$ varies less
# than either score. **Several seeds**: over $n$ seeds the mean difference has the 95% interval
#
# $$\bar d \pm t_{0.975,\,n-1}\, \frac{s_d}{\sqrt{n}},$$
#
# with $s_d$ the standard deviation of the paired differences. A row is **resolved** from the reference when its
# interval excludes 0; otherwise it is **not resolved at this budget**, and the half-width is the size of an effect
# the study could have missed. This study's target is a half-width of at most 0.05 dB.

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
overrides = {"train.pretrain_steps": 30, "train.gan_steps": 0, "train.precision": "bf16"}  # every row's budget
rows = [{"name": "1 frame (DBPN)", "model": "dbpn"}, {"name": "3 frames", "frames": 3},
        {"name": "7 frames", "frames": 7}, {"name": "3 frames, zero flow", "frames": 3, "flow": "zero"}]
reference = "3 frames"
seeds = [123, 124, 125]  # every row trains once per seed; rows are compared seed by seed

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
seeds = ch03b_frames.check_rows(rows, reference, seeds)
test_set = chapter_test_set(vid4_root, cache_dir)
show_md(test_set.note)
configs = ch03b_frames.row_configs(
    rows, seeds, rows_dir, reference, lambda out, s, values: experiment_config(preset_name, out, cache_dir, s, data_root=data_root,
                                                                    overrides={**overrides, **values}))

# %%
from iseebetter_lib.book import committed, explain

show_md(explain.rows_sentence(rows, reference, seeds))
show_md("The shared budget (reference row):\n\n" + md_table(describe(configs[reference, seeds[0]])))

# %%
results = {row["name"]: {} for row in rows}
for s in seeds:  # seed by seed, so that a stopped run has complete pairs
    for row in rows:
        r = results[row["name"]][s] = ch03b_frames.run_row(configs[row["name"], s], row, test_set, frame_step)
        print(f"{row['name']}, seed {s}: {r['steps']} steps in {r['train_s']:.0f} s, PSNR-Y {r['psnr_y']:.3f} dB")

# %% [markdown]
# ## The rows
#
# Each row's absolute scores, averaged over its seeds (chapter 05's protocol: PSNR-Y and SSIM-Y), the seed-to-seed
# standard deviation of its PSNR-Y, and its gain over its own bicubic base.

# %%
means = ch03b_frames.means_table(results)
show_md(md_table(means, floatfmt=".3f"))

# %% [markdown]
# ## The effects
#
# Each row minus the reference, seed by seed: the mean difference, its 95% interval over the seeds and the
# verdict, on the average over clips and for each clip (a clip's interval is wider: fewer frames, more noise).

# %%
lines = ch03b_frames.effect_lines(results, reference)
show_md(md_table(lines, floatfmt=".3f"))
show_md(ch03b_frames.target_sentence(lines, reference) + " " + ch03b_frames.per_clip_sentence(lines))
save_figure(ch03b_frames.effects_figure(lines, reference), CHAPTER, "frames_effects", profile)
reference_sd = next(m["PSNR-Y SD (dB)"] for m in means if m["row"] == reference)
save_results(CHAPTER, profile, {"design": ch03b_frames.DESIGN, "seeds": seeds, "reference": reference,
                                "effects": lines, "rows": means, "reference_sd_db": reference_sd,
                                "target_half_width_db": ch03b_frames.TARGET_DB, "test_set": test_set.dataset,
                                "frame_step": frame_step,
                                "per_seed": {n: {str(s): {k: v for k, v in r.items()
                                                          if k not in ("config", "init_digest")}
                                                 for s, r in per.items()} for n, per in results.items()}});

# %% [markdown]
# ## The committed laptop run
#
# The `laptop` profile runs this chapter at a larger budget on a 2-core laptop; its committed results:

# %%
laptop = committed.committed_results(CHAPTER)
show_md(ch03b_frames.committed_note(laptop))
laptop = committed.show_committed(CHAPTER, figures=("frames_effects",))

# %% [markdown]
# ## What this budget shows

# %%
show_md(ch03b_frames.budget_sentence(results, lines, profile))

# %% [markdown]
# An interval that excludes 0 is a finding; an interval narrower than the target that contains 0 is a finding too,
# of another kind: it bounds the effect, and says it is absent *at this budget* to that precision. An interval wider
# than the target says only that the seeds disagree. Why might more frames or the flow be worth little here, when the
# paper's Table 3 puts single-frame DBPN at 25.37 dB and RBPN at 27.12 dB on Vid4? Three likely reasons, hypotheses
# that this chapter does not test:
#
# - **The model's size and budget.** The paper's gains come from a generator about 50 times larger than the
#   `compact` preset, trained for days on Vimeo-90K {cite}`xue2019toflow`. The `compact` network adds a learned
#   correction to the bicubic upscale of the target frame; in a few hundred steps it is still learning what a single
#   frame can give (its gain over its bicubic base is the range above), and a network that has not exhausted the
#   target frame has little reason to learn the harder task of reading its neighbours.
# - **The data's motion.** The training clips are three short sample videos and still photographs panned along
#   straight paths in whole HR pixels (chapter 01): one rigid translation per clip, the same for every pixel. Such
#   neighbours do hold sub-pixel samples at LR, but the motion is so simple that the flow adds little a network could
#   not infer from the frames themselves, so zero flow loses little.
# - **The test set's motion.** Vid4 has slow, mostly global motion; calendar and city are nearly pure camera pans.
#
# Chapter 05 asks the same question of the shipped model, trained longer (chapter 03), without training anything:
# it replaces the neighbours by copies of the target frame, zeros the flows, or shuffles the neighbours, and scores
# the model on the same frames.
#
# ## Summary
#
# - Neighbouring frames sample the scene at shifted positions; aligned, they hold detail a single LR frame lacks.
# - RBPN takes the alignment as input: the flow from the target to each neighbour, two extra channels per neighbour;
#   DBPN, its single-image branch alone, is the one-frame control.
# - The zero-flow row keeps the neighbours but removes the motion: it tests whether the network uses the flow.
# - Runs paired by seed share their samples and starting weights; the paired difference over several seeds, with
#   its 95% interval, says whether an effect is resolved, and if not, how large it could be: a narrow interval around
#   0 bounds the effect (absent at this budget, to that precision), a wide one leaves it open.
#
# ## Exercises
#
# 1. Add a row: append `{"name": "5 frames", "frames": 5}` to `rows`. Its training costs about twice the 3-frame
#    row's (the recurrence runs once per neighbour); predict where its interval falls before you run it.
# 2. Score more frames: `frame_step = 2`. Every row's PSNR moves a little (different frames), but the intervals
#    barely narrow: the spread comes from training, not from the frames scored.
# 3. More seeds: `seeds = [123, 124, 125, 126, 127]`. The runs already finished are reused; check how the
#    half-widths shrink (the $t$ factor falls from 4.30 at three seeds to 2.78 at five, and $\sqrt{n}$ grows).
# 4. *(Harder)* How much did pairing buy? From the saved `per_seed` scores, compute each row's interval as if its
#    runs were unrelated to the reference's (Welch's interval on the two rows' scores, `scipy.stats.ttest_ind`) and
#    compare its width with the paired one.
# 5. *(Harder)* Test the data's-motion hypothesis: add `"data.stills": False` to `overrides` (the sample videos alone,
#    real motion only) and run the zero-flow row against the reference again. Does the flow's effect move?
