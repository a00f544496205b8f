"""Clusters of units by their task-variance profiles, the number the paper reports.

* Hierarchical (the paper's method): ``scipy.cluster.hierarchy.linkage`` (``ward`` by
  default, Euclidean), cut into every k = 2 .. n - 1 clusters with ``fcluster(...,
  "maxclust")`` ("each possible linkage-based cluster partition", the paper's appendix); the
  cut with the best silhouette score (``sklearn.metrics.silhouette_score``, Euclidean) wins.
* ``kmeans`` (Yang et al.'s code): ``sklearn.cluster.KMeans(n_init=10, random_state=seed)``
  for k = 2 .. 29 (Yang et al.'s range; at most the number of distinct rows), best
  silhouette.

Ties go to the smaller k. Clusters are then numbered in heat-map order: by the task their mean
profile prefers, and units within a cluster by their own preferred task.

Where the silhouette curve is flat, the best k is ill-determined: the scores of one network move
by about 0.01 from one sample of analysis trials to another, so :attr:`Clustering.near_best`
gives every k within :data:`NEAR_BEST` of the best score, and the outputs report its range.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score

from lmrnn.errors import LmrnnError, check_choice

LINKAGE_METHODS = ("ward", "single", "complete", "average", "weighted", "centroid", "median")
METHODS = (*LINKAGE_METHODS, "kmeans")
MAX_CLUSTERS = 29  # the k-means range of Yang et al.'s code; linkage cuts try every k
NEAR_BEST = 0.01  # silhouette scores closer than this to the best are as good as the best


@dataclass(frozen=True)
class Clustering:
    """A partition of n units (rows of a unit x task matrix).

    Attributes:
        method: a linkage method or ``"kmeans"``.
        labels: (n,) int64 cluster of each unit, 0 .. n_clusters - 1 in heat-map order.
        n_clusters: the number of clusters chosen.
        silhouette: k -> silhouette score of the best partition into k clusters tried.
        order: (n,) int64 row order for the heat map (cluster by cluster).
        boundaries: (n_clusters - 1,) int64 positions in ``order`` where a new cluster starts.
    """

    method: str
    labels: np.ndarray
    n_clusters: int
    silhouette: dict[int, float]
    order: np.ndarray
    boundaries: np.ndarray

    @property
    def best_score(self) -> float:
        return self.silhouette[self.n_clusters]

    @property
    def near_best(self) -> list[int]:
        """Every k whose silhouette is within :data:`NEAR_BEST` of the best, ascending."""
        return sorted(k for k, v in self.silhouette.items() if v >= self.best_score - NEAR_BEST)

    def to_dict(self) -> dict[str, Any]:
        near = self.near_best
        return {
            "method": self.method,
            "n_clusters": self.n_clusters,
            "best_silhouette": self.best_score,
            "near_best_min": near[0],
            "near_best_max": near[-1],
            "silhouette": {str(k): v for k, v in self.silhouette.items()},
            "labels": self.labels,
            "order": self.order,
            "boundaries": self.boundaries,
        }


def check_method(method: str) -> str:
    """Return ``method`` if it is a linkage method or ``kmeans``, else raise."""
    return check_choice("clustering method", method, METHODS)


def _check_matrix(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise LmrnnError(f"the matrix to cluster must be a finite 2-D array, got shape {x.shape}.")
    if x.shape[0] < 3:
        raise LmrnnError(
            f"clustering needs at least 3 units with task variance above the threshold, got "
            f"{x.shape[0]}; lower the threshold or analyse a trained network."
        )
    return x


def hierarchical_partitions(x: np.ndarray, method: str, max_clusters: int) -> dict[int, np.ndarray]:
    """k -> labels (n,) of the linkage tree cut into k clusters, k = 2 .. min(max, n - 1)."""
    tree = linkage(x, method=method, metric="euclidean")
    out: dict[int, np.ndarray] = {}
    for k in range(2, min(max_clusters, x.shape[0] - 1) + 1):
        labels = fcluster(tree, k, criterion="maxclust") - 1
        found = int(np.unique(labels).size)
        if found >= 2 and found not in out:  # ties in the tree can merge cuts
            out[found] = labels
    return out


def kmeans_partitions(x: np.ndarray, max_clusters: int, seed: int) -> dict[int, np.ndarray]:
    """k -> KMeans labels (n,), k = 2 .. min(max, distinct rows, n - 1)."""
    distinct = np.unique(x, axis=0).shape[0]
    out: dict[int, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in range(2, min(max_clusters, distinct, x.shape[0] - 1) + 1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
            found = int(np.unique(labels).size)
            if found >= 2 and found not in out:
                out[found] = labels
    return out


def heatmap_order(x: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Renumber clusters by preferred task and order units for the heat map.

    Returns (labels renumbered 0.., order (n,), boundaries (k - 1,)).
    """
    clusters = np.unique(labels)
    means = np.stack([x[labels == c].mean(0) for c in clusters])  # (k, n_tasks)
    rank = sorted(range(len(clusters)), key=lambda i: (int(means[i].argmax()), -means[i].max()))
    new = np.empty(labels.max() + 1, dtype=np.int64)
    new[clusters[rank]] = np.arange(len(clusters))
    relabelled = new[labels]
    own = x.argmax(1)
    order = np.lexsort((-x.max(1), own, relabelled))
    sizes = np.bincount(relabelled, minlength=len(clusters))
    return relabelled, order.astype(np.int64), np.cumsum(sizes)[:-1].astype(np.int64)


def cluster_units(
    x: np.ndarray, method: str = "ward", max_clusters: int | None = None, seed: int = 0
) -> Clustering:
    """Cluster the rows of ``x`` (n units, n_tasks) and keep the best-silhouette partition of
    at most ``max_clusters`` clusters (default: every cut of a linkage tree, k-means up to
    :data:`MAX_CLUSTERS`)."""
    check_method(method)
    bad = isinstance(max_clusters, bool) or not isinstance(max_clusters, int) or max_clusters < 2
    if max_clusters is not None and bad:
        raise LmrnnError(
            f"max_clusters must be a whole number >= 2 or None (every cut), got {max_clusters!r}."
        )
    x = _check_matrix(x)
    if max_clusters is None:
        max_clusters = MAX_CLUSTERS if method == "kmeans" else x.shape[0] - 1
    if np.unique(x, axis=0).shape[0] < 2:
        raise LmrnnError(
            f"the {x.shape[0]} units have fewer than 2 distinct task-variance profiles, so "
            "there is nothing to cluster; analyse a trained network."
        )
    if method == "kmeans":
        partitions = kmeans_partitions(x, max_clusters, seed)
    else:
        partitions = hierarchical_partitions(x, method, max_clusters)
    distances = squareform(pdist(x))  # once for all the cuts scored
    scores = {
        k: float(silhouette_score(distances, lab, metric="precomputed"))
        for k, lab in sorted(partitions.items())
    }
    best = max(scores, key=lambda k: (scores[k], -k))
    labels, order, boundaries = heatmap_order(x, partitions[best])
    return Clustering(method, labels, best, scores, order, boundaries)
