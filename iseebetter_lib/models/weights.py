"""The old name of `iseebetter_lib.models.checkpoints` (generator files): "weights" also named loss weights and the
shipped model's folder. Each name here warns `DeprecationWarning` and gives the object of its new home."""

from iseebetter_lib.deprecation import renamed

__getattr__ = renamed(__name__, {
    "GENERATOR_FORMAT": "iseebetter_lib.models.checkpoints.GENERATOR_FORMAT",
    "save_checkpoint": "iseebetter_lib.models.checkpoints.save_checkpoint",
    "load_checkpoint": "iseebetter_lib.models.checkpoints.load_checkpoint",
    "generator_file_state": "iseebetter_lib.models.checkpoints.generator_file_state",
    "model_config_mismatch": "iseebetter_lib.models.checkpoints.model_config_mismatch",
    "infer_model_config": "iseebetter_lib.models.checkpoints.infer_model_config",
    "LoadedGenerator": "iseebetter_lib.models.checkpoints.LoadedGenerator",
    "inference_config_from_dict": "iseebetter_lib.models.checkpoints.inference_config_from_dict",
    "load_generator": "iseebetter_lib.models.checkpoints.load_generator",
    "load_generator_file": "iseebetter_lib.models.checkpoints.load_generator_file",
})
