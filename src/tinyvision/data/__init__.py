"""Data sets and whole-batch transforms for image classification."""

from tinyvision.data.cifar import CIFAR10_CLASSES, download_cifar10, load_cifar10
from tinyvision.data.dataset import ImageDataset, stratified_split
from tinyvision.data.digits import load_digits
from tinyvision.data.transforms import channel_stats, normalize, random_flip, random_translate

__all__ = [
    "CIFAR10_CLASSES",
    "ImageDataset",
    "channel_stats",
    "download_cifar10",
    "load_cifar10",
    "load_digits",
    "normalize",
    "random_flip",
    "random_translate",
    "stratified_split",
]
