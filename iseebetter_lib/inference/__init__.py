"""Applying a trained generator: the engine (window -> flows -> tiles -> model -> frame), the inference
configuration saved with the weights, and upscaling whole videos or frame folders into videos or PNG folders.

Notebook use::

    from iseebetter_lib.inference import upscale
    upscale("clip.mp4", "clip_x4.mp4", weights="runs/compact/generator.pt")
"""

from iseebetter_lib.inference.engine import Engine, forward, super_resolve_clip
from iseebetter_lib.inference.settings import resolve_inference_config
from iseebetter_lib.inference.upscaling import UpscaleReport, bicubic_clip, upscale

__all__ = ["Engine", "UpscaleReport", "bicubic_clip", "forward", "resolve_inference_config", "super_resolve_clip",
           "upscale"]
