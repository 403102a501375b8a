"""Models people use on their own images: :class:`Detector` and :class:`Classifier`.

``Detector.load(checkpoint).predict(source)`` and ``Classifier.load(...).predict(...)``
return one :class:`Results` per image (:class:`Boxes` or :class:`Probs`); ``val`` evaluates
on a data set and ``train`` trains further with the config fields as keywords. Sources:
files, folders, globs, videos, numpy (BGR), PIL and torch images, lists of them
(:mod:`tinyvision.models.sources`).
"""

from tinyvision.models.classifier import Classifier
from tinyvision.models.detector import Detector
from tinyvision.models.results import Boxes, Probs, Results
from tinyvision.models.sources import SkippedImageWarning

__all__ = ["Boxes", "Classifier", "Detector", "Probs", "Results", "SkippedImageWarning"]
