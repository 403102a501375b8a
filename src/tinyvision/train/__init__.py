"""Training: schedules, checkpoints, torchrun/DDP set-up, the classifier and the detector
trainers (with the YOLOv5 loss and an EMA of the weights)."""

from tinyvision.train.checkpoint import load_checkpoint, save_checkpoint
from tinyvision.train.classify import (
    TrainConfig,
    TrainEvent,
    TrainingDiverged,
    TrainResult,
    check_classifier_record,
    predict_logits,
    predict_proba,
    train_classifier,
)
from tinyvision.train.detect import (
    DetectTrainConfig,
    DetectTrainResult,
    check_anchors,
    evaluate_detector,
    predict_images,
    train_detector,
)
from tinyvision.train.detect_loss import LossConfig, build_targets, yolo_loss
from tinyvision.train.distributed import DistContext, resolve_device, setup_distributed
from tinyvision.train.ema import ModelEMA
from tinyvision.train.recipes import Recipe, get_recipe
from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle, one_cycle_lr

__all__ = [
    "DetectTrainConfig",
    "DetectTrainResult",
    "DistContext",
    "LossConfig",
    "ModelEMA",
    "Recipe",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainingDiverged",
    "build_targets",
    "check_anchors",
    "check_classifier_record",
    "cosine_restarts_lr",
    "cycle_ends",
    "evaluate_detector",
    "get_recipe",
    "load_checkpoint",
    "one_cycle",
    "one_cycle_lr",
    "predict_images",
    "predict_logits",
    "predict_proba",
    "resolve_device",
    "save_checkpoint",
    "setup_distributed",
    "train_classifier",
    "train_detector",
    "yolo_loss",
]
