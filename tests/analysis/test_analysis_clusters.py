"""Clustering of task-variance profiles: planted blocks come back as their blocks."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from lmrnn.analysis import MAX_CLUSTERS, NEAR_BEST, cluster_units, heatmap_order
from lmrnn.errors import LmrnnError

SIZES = (5, 9, 12, 7)


def planted_blocks(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of block b are high on tasks 2b and 2b+1 of 8, plus noise; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for b, size in enumerate(SIZES):
        profile = np.full(8, 0.1)
        profile[2 * b : 2 * b + 2] = (1.0, 0.7)
        rows.append(profile + rng.uniform(-0.05, 0.05, (size, 8)))
        truth += [b] * size
    perm = rng.permutation(sum(SIZES))
    return np.concatenate(rows)[perm], np.array(truth)[perm]


@pytest.mark.parametrize("method", ["ward", "average", "complete", "kmeans"])
def test_planted_blocks_come_back_as_the_blocks(method):
    x, truth = planted_blocks()
    result = cluster_units(x, method)
    assert result.n_clusters == len(SIZES)
    assert adjusted_rand_score(truth, result.labels) == 1.0
    # every cut tried is scored (every linkage cut; k-means up to Yang et al.'s 29), and the
    # chosen one has the best score
    top = MAX_CLUSTERS if method == "kmeans" else x.shape[0] - 1
    assert set(result.silhouette) == set(range(2, top + 1))
    assert result.best_score == max(result.silhouette.values())


@pytest.mark.parametrize("method", ["ward", "average"])
def test_more_planted_blocks_than_the_kmeans_range_come_back(method):
    """The paper scores every linkage cut: 35 planted clusters are found, not capped at 29."""
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 1, (35, 12))
    x = np.repeat(centres, 4, axis=0) + rng.normal(0, 0.003, (140, 12))
    result = cluster_units(x, method)
    assert result.n_clusters == 35
    assert adjusted_rand_score(np.repeat(np.arange(35), 4), result.labels) == 1.0


def test_near_best_tells_a_clear_count_from_a_flat_silhouette_curve():
    x, _ = planted_blocks()
    assert cluster_units(x, "ward").near_best == [len(SIZES)]
    flat = np.random.default_rng(0).uniform(0, 1, (60, 8))  # no clusters at all
    result = cluster_units(flat, "ward")
    assert len(result.near_best) >= 4 and result.n_clusters in result.near_best
    assert all(result.silhouette[k] >= result.best_score - NEAR_BEST for k in result.near_best)


def test_heat_map_order_groups_clusters_by_preferred_task():
    x, truth = planted_blocks(seed=1)
    result = cluster_units(x, "ward")
    # cluster c prefers task 2c (the planted block order), so labels equal the block index
    assert np.array_equal(result.labels, truth)
    ordered = result.labels[result.order]
    assert np.all(np.diff(ordered) >= 0)  # contiguous blocks, in cluster order
    assert result.boundaries.tolist() == np.cumsum(SIZES)[:-1].tolist()
    assert sorted(result.order.tolist()) == list(range(x.shape[0]))


def test_heatmap_order_renumbers_any_labels():
    x = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.2]])
    labels, order, bounds = heatmap_order(x, np.array([7, 7, 3, 3]))
    assert labels.tolist() == [1, 1, 0, 0]  # the cluster preferring task 0 comes first
    assert order.tolist()[:2] == [2, 3] and bounds.tolist() == [2]


def test_candidate_counts_stop_below_the_number_of_units():
    x, _ = planted_blocks()
    few = x[:6]
    assert max(cluster_units(few, "ward").silhouette) <= 5
    assert max(cluster_units(x, "ward", max_clusters=6).silhouette) == 6


def test_bad_input_is_refused():
    x, _ = planted_blocks()
    with pytest.raises(LmrnnError, match=r"unknown clustering method 'wrad' \(did you mean 'ward'"):
        cluster_units(x, "wrad")
    with pytest.raises(LmrnnError, match="at least 3 units"):
        cluster_units(x[:2], "ward")
    with pytest.raises(LmrnnError, match="fewer than 2 distinct"):
        cluster_units(np.ones((10, 3)), "ward")
    with pytest.raises(LmrnnError, match="max_clusters must be"):
        cluster_units(x, "ward", max_clusters=1)
