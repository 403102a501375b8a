"""Training: one loop for both trainers (:mod:`tinyvision.train.engine`: validation every
epoch, results.csv, best.pt, early stopping, resume, fine-tuning), schedules, checkpoints,
torchrun/DDP set-up, the classifier and the detector trainers (with the YOLOv5 loss and an
EMA of the weights)."""

from tinyvision.train.checkpoint import load_checkpoint, save_checkpoint
from tinyvision.train.classify import (
    ClassifierCheckpoint,
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
    DetectorCheckpoint,
    DetectTrainConfig,
    DetectTrainResult,
    check_anchors,
    detection_fitness,
    evaluate_detector,
    predict_images,
    train_detector,
    validate_detector,
)
from tinyvision.train.detect_loss import LossConfig, build_targets, yolo_loss
from tinyvision.train.distributed import DistContext, resolve_device, setup_distributed
from tinyvision.train.ema import ModelEMA
from tinyvision.train.engine import (
    Engine,
    LoopConfig,
    LoopResult,
    TrainCheckpoint,
    TrainTask,
    Transfer,
    freeze_blocks,
    model_blocks,
    read_results_csv,
    transfer_weights,
)
from tinyvision.train.recipes import Recipe, get_recipe
from tinyvision.train.schedule import cosine_restarts_lr, cycle_ends, one_cycle, one_cycle_lr

__all__ = [
    "ClassifierCheckpoint",
    "DetectTrainConfig",
    "DetectTrainResult",
    "DetectorCheckpoint",
    "DistContext",
    "Engine",
    "LoopConfig",
    "LoopResult",
    "LossConfig",
    "ModelEMA",
    "Recipe",
    "TrainCheckpoint",
    "TrainConfig",
    "TrainEvent",
    "TrainResult",
    "TrainTask",
    "TrainingDiverged",
    "Transfer",
    "build_targets",
    "check_anchors",
    "check_classifier_record",
    "cosine_restarts_lr",
    "cycle_ends",
    "detection_fitness",
    "evaluate_detector",
    "freeze_blocks",
    "get_recipe",
    "load_checkpoint",
    "model_blocks",
    "one_cycle",
    "one_cycle_lr",
    "predict_images",
    "predict_logits",
    "predict_proba",
    "read_results_csv",
    "resolve_device",
    "save_checkpoint",
    "setup_distributed",
    "train_classifier",
    "train_detector",
    "transfer_weights",
    "validate_detector",
    "yolo_loss",
]
