"""Clustering: k-means with scikit-learn's results (faster), silhouettes in bounded memory,
choosing K, a K-nearest-neighbours classifier, and YOLO anchor boxes.

- :class:`KMeans`, :func:`kmeans`, :func:`kmeans_plusplus` — unsupervised clustering.
- :func:`silhouette_score`, :func:`silhouette_samples` — cluster quality.
- :func:`choose_k` — k-means for a range of K, K picked by silhouette.
- :class:`KNeighborsClassifier` — supervised classification by neighbours' votes.
- :func:`anchor_kmeans`, :func:`best_possible_recall`, :func:`anchor_fitness` — anchors.
"""

from tinyvision.cluster.anchors import anchor_fitness, anchor_kmeans, best_possible_recall
from tinyvision.cluster.kmeans import KMeans, KMeansResult, kmeans, kmeans_plusplus
from tinyvision.cluster.knn import KNeighborsClassifier
from tinyvision.cluster.selection import ChooseKResult, choose_k
from tinyvision.cluster.silhouette import silhouette_samples, silhouette_score

__all__ = [
    "ChooseKResult",
    "KMeans",
    "KMeansResult",
    "KNeighborsClassifier",
    "anchor_fitness",
    "anchor_kmeans",
    "best_possible_recall",
    "choose_k",
    "kmeans",
    "kmeans_plusplus",
    "silhouette_samples",
    "silhouette_score",
]
