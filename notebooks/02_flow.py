# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (iseebetter)
#     language: python
#     name: iseebetter
# ---

# %% [markdown]
# # Optical flow
#
# RBPN's multi-image branch reads the flow from the target frame to each neighbour. iSeeBetter computes it with
# the classic coarse-to-fine variational method (Brox et al. 2004, C. Liu's `pyflow`); we re-implemented it in
# Cython (`pyflow/`). Convention: $I_1(x, y) \approx I_2(x + u, y + v)$, in LR pixels. This chapter checks it on
# real frame pairs (colour-wheel figures, warping error), against ground truth on synthetic pairs, against the
# classic implementation's own output, against OpenCV's DIS for speed, and on identical frames.

# %% tags=["parameters"]
profile = "smoke"
seed = 123
interactive = False
reference = None  # None: the data home's flow_reference/, else the trimmed copy shipped with the tests
timing_repeats = 3

# %%
import numpy as np
import pyflow

from iseebetter_lib.book import ch02_flow, plots, widgets
from iseebetter_lib.book.display import md_table, show_md
from iseebetter_lib.book.fallbacks import flow_reference_file, is_trimmed_flow_reference
from iseebetter_lib.book.figures import save_figure
from iseebetter_lib.flow import available_backends, flow_to_color

CHAPTER = "02_flow"
reference = flow_reference_file(reference)
if is_trimmed_flow_reference(reference):
    show_md("**The data home has no flow reference: this chapter reads the trimmed copy shipped with the tests "
            "(11 of its 14 pairs, float32).**")
ref = ch02_flow.load_reference(reference)
print("backends:", available_backends(), "| pairs:", len(ref))

# %% [markdown]
# ## Real pairs: flow in the Middlebury colour wheel
#
# Hue is the direction, saturation the magnitude (legend below). Vid4 LR frames and crops of `bikes.mp4`.

# %%
real = ["vid4_calendar_lr_f1_f2", "vid4_city_lr_f1_f2", "bikes_t124_112x64"]
warp_rows, triples = ch02_flow.warping_rows(ref, real)
save_figure(plots.flow_figure(triples, flow_to_color), CHAPTER, "real_pairs", profile)
save_figure(plots.image_grid([ch02_flow.color_legend()], ["colour wheel (unit flow)"], size=2.2), CHAPTER,
            "color_wheel", profile);

# %% [markdown]
# ## Warping error
#
# Mean absolute difference (0..255) between frame 1 and frame 2 warped back by each flow: lower is better.

# %%
show_md(md_table(warp_rows))

# %% [markdown]
# ## Accuracy against ground truth
#
# Synthetic pairs (a real frame warped by a known smooth flow): endpoint error in pixels (4-px border excluded).
# The classic implementation scores 0.12-0.26 px here.

# %%
acc = ch02_flow.accuracy_rows(ref)
show_md(md_table(acc, floatfmt=".3f"))

# %% [markdown]
# ## Speed against OpenCV DIS
#
# Best of a few runs, same process and inputs, one thread. DIS is a fast, less accurate method: the comparison shows
# the price of the variational flow that RBPN was trained with. The classic C++ implementation cannot be built here;
# its single-threaded times on this machine class are reference measurements (`CLASSIC_MS`). `benchmarks/flow.py`
# measures more sizes, threads and the batched 7-frame window call.

# %%
print(f"pyflow build in use: {pyflow.SIMD}")
show_md(md_table(ch02_flow.speed_rows(ref, ["bikes_t10_64x64", "bikes_t10_112x64", "vid4_calendar_lr_f1_f2"],
                                       timing_repeats), floatfmt=".1f"))

# %% [markdown]
# ## Identical frames
#
# At a clip's ends a missing neighbour is replaced by the target itself: the flow must then be exactly zero.

# %%
same = ch02_flow.identical_case(ref)
show_md(md_table([same], floatfmt=".3g"))
assert same["finite"] and same["max abs flow (ours, px)"] < 1e-3

# %%
if interactive:
    name, im1, _, flow = triples[0]
    widgets.show(widgets.flow_overlay(im1, flow, flow_to_color))
