"""Configuration objects, one per concern, shared by the notebooks, the CLI and the tests.

`schema` holds the dataclasses (`ModelConfig`, `FlowConfig`, `DataConfig`, `LossConfig`, `TrainConfig` grouped in
`ExperimentConfig`, and `InferenceConfig`); `overrides` the dotted-key engine; `presets` the named configurations
(`tiny`, `compact`, `reduced`, `full` = the paper) and `load_config`. Imports only `iseebetter_lib.errors`.
"""

from iseebetter_lib.config.overrides import apply_nested, apply_overrides, flatten
from iseebetter_lib.config.presets import PRESETS, load_config, preset
from iseebetter_lib.config.schema import (ConfigError, DataConfig, ExperimentConfig, FlowConfig, InferenceConfig,
                                          LossConfig, ModelConfig, TrainConfig)

__all__ = ["ConfigError", "DataConfig", "ExperimentConfig", "FlowConfig", "InferenceConfig", "LossConfig",
           "ModelConfig", "TrainConfig", "PRESETS", "apply_nested", "apply_overrides", "flatten", "load_config",
           "preset"]
