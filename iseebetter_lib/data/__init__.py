"""Data: exact degradations (MATLAB bicubic, BD), readers, training samples, flow cache, embedded dataset.

Heavy parts (torch dataset, flow cache, video) are imported on first use, so `from iseebetter_lib.data import
imresize` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from iseebetter_lib.data.augment import Augment
from iseebetter_lib.data.degrade import degrade, modcrop
from iseebetter_lib.data.imresize import imresize
from iseebetter_lib.data.readers import (list_clip_folders, list_frame_files, list_vimeo_septuplets, natural_key,
                                         natural_sort, read_frame_folder, read_frames, read_image, read_septuplet)
from iseebetter_lib.data.scenecut import detect_cuts, shots
from iseebetter_lib.data.windows import neighbour_indices, neighbour_offsets
from iseebetter_lib.deprecation import renamed

_LAZY = {
    "VideoInfo": "video", "iter_video_frames": "video", "read_video": "video", "video_info": "video",
    "FlowCache": "flow_cache", "crop_vs_whole_epe": "flow_cache",
    "TrainingDataset": "dataset", "Clip": "dataset", "load_training_clips": "dataset",
    "embedded_dataset": "embedded", "sample_video_dir": "embedded",
    "EvalClip": "eval_sets", "EvalSet": "eval_sets", "load_eval_clips": "eval_sets", "vid4_root": "eval_sets",
    "data_home": "home", "sample_video_paths": "home",
}


_renamed = renamed(__name__, {"load_clips": "iseebetter_lib.data.load_training_clips"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"iseebetter_lib.data.{_LAZY[name]}"), name)
    return _renamed(name)  # an old name warns and gives the new object; anything else is an AttributeError


__all__ = ["Augment", "degrade", "modcrop", "imresize", "list_clip_folders", "list_frame_files",
           "list_vimeo_septuplets", "natural_key", "natural_sort", "read_frame_folder", "read_frames", "read_image",
           "read_septuplet", "detect_cuts", "shots", "neighbour_indices", "neighbour_offsets", *_LAZY]
