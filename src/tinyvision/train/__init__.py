"""Training: schedules, checkpoints, torchrun/DDP set-up and the classifier trainer."""

from tinyvision.train.checkpoint import load_checkpoint, save_checkpoint
from tinyvision.train.classify import (
    TrainConfig,
    TrainEvent,
    TrainingDiverged,
    TrainResult,
    predict_logits,
    predict_proba,
    train_classifier,
)
from tinyvision.train.distributed import DistContext, resolve_device, setup_distributed
from tinyvision.train.recipes import Recipe, get_recipe
from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle, one_cycle_lr

__all__ = [
    "DistContext",
    "Recipe",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainingDiverged",
    "cosine_restarts_lr",
    "cycle_ends",
    "get_recipe",
    "load_checkpoint",
    "one_cycle",
    "one_cycle_lr",
    "predict_logits",
    "predict_proba",
    "resolve_device",
    "save_checkpoint",
    "setup_distributed",
    "train_classifier",
]
