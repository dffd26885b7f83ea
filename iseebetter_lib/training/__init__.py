"""Training: `train(cfg)` runs pixel pre-training then adversarial fine-tuning; see `trainer.py`."""

from iseebetter_lib.training.session import generator_lr_factor
from iseebetter_lib.training.trainer import TrainResult, train

__all__ = ["TrainResult", "generator_lr_factor", "train"]
