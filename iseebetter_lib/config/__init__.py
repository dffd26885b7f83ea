"""Configuration objects, one per concern, shared by the notebooks, the CLI and the tests.

`schema` holds the dataclasses (`ModelConfig`, `FlowConfig`, `DataConfig`, `LossConfig` with `LossWeights`,
`TrainConfig` grouped in `ExperimentConfig`, and `InferenceConfig`), each field with its declared range (`rules`);
`overrides` the dotted-key engine; `presets` the named configurations (`tiny`, `compact`, `reduced`, `full` = the
paper) and `build`, the one way to make a configuration (preset, file, overrides; `preset(name)` is
``build(name)``). The lists of accepted names and the tile rule are declared in `schema` beside their fields.
Imports only `iseebetter_lib.errors`.
"""

from iseebetter_lib.config.overrides import apply_nested, apply_overrides, expand_key, flatten
from iseebetter_lib.config.presets import PRESETS, build, load_config, preset
from iseebetter_lib.config.schema import (BOUNDARIES, DEGRADATIONS, DEVICES, EVAL_DATASETS, LOSS_TERMS, PRECISIONS,
                                          SCALES, TILE_MIN, ConfigError, DataConfig, ExperimentConfig, FlowConfig,
                                          InferenceConfig, LossConfig, LossWeights, ModelConfig, TrainConfig,
                                          parse_tile)

__all__ = ["BOUNDARIES", "DEGRADATIONS", "DEVICES", "EVAL_DATASETS", "LOSS_TERMS", "PRECISIONS", "SCALES", "TILE_MIN",
           "parse_tile", "ConfigError", "DataConfig", "ExperimentConfig", "FlowConfig", "InferenceConfig",
           "LossConfig", "LossWeights", "ModelConfig", "TrainConfig", "PRESETS", "apply_nested", "apply_overrides",
           "build", "expand_key", "flatten", "preset"]
