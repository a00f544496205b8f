"""Geometry of the input weights (paper Fig 3c-e): how rule, fixation and stimulus inputs project
onto the hidden units.

The columns of W_in (N, n_in) are the vectors each input adds to the hidden drive: column 0
fixation, 1..16 ring 1, 17..32 ring 2, 33.. one per task rule. "Normalised correlation" here is
the cosine of the angle between two such vectors (their dot product over the product of their
norms), so orthogonal inputs score 0 whatever their means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lmrnn.errors import LmrnnError
from lmrnn.tasks import RING, Collection, get_collection
from lmrnn.tasks.registry import FAMILIES

FIXATION = 0
STIMULUS = slice(1, 1 + 2 * RING)
RULE_START = 1 + 2 * RING


@dataclass(frozen=True)
class InputGeometry:
    """Cosine similarities between input weight vectors of one network.

    Attributes:
        tasks: task names in family order (reach, dm, dlydm, match; rule order within each).
        families: the family of each task in ``tasks``.
        rule: (n_tasks, n_tasks) rule vs rule, rows and columns in ``tasks`` order.
        rule_vs_fixation: (n_tasks,) each rule vector vs the fixation vector.
        rule_vs_stimulus: (n_tasks, 32) each rule vector vs each ring unit's vector.
        stimulus: (32, 32) stimulus vs stimulus (ring 1 then ring 2).
        circulant: (2,) per ring, the fraction of the within-ring block's off-diagonal variance
            explained by its circulant part (the mean along each wrapped diagonal); 1 =
            circulant, about 15/240 for unrelated vectors.
    """

    tasks: tuple[str, ...]
    families: tuple[str, ...]
    rule: np.ndarray
    rule_vs_fixation: np.ndarray
    rule_vs_stimulus: np.ndarray
    stimulus: np.ndarray
    circulant: np.ndarray

    def summary(self) -> dict[str, float]:
        """Within-family and between-family mean rule cosines, and mean |cos| with fixation
        and stimulus inputs."""
        fam = np.array(self.families)
        same = fam[:, None] == fam[None, :]
        off = ~np.eye(len(fam), dtype=bool)
        within = self.rule[same & off]
        between = self.rule[~same]
        return {
            "rule_within_family": float(within.mean()) if within.size else float("nan"),
            "rule_between_family": float(between.mean()) if between.size else float("nan"),
            "abs_rule_vs_fixation": float(np.abs(self.rule_vs_fixation).mean()),
            "abs_rule_vs_stimulus": float(np.abs(self.rule_vs_stimulus).mean()),
            "circulant_ring1": float(self.circulant[0]),
            "circulant_ring2": float(self.circulant[1]),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "tasks": list(self.tasks),
            "families": list(self.families),
            "rule": self.rule,
            "rule_vs_fixation": self.rule_vs_fixation,
            "rule_vs_stimulus": self.rule_vs_stimulus,
            "stimulus": self.stimulus,
        }


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(p, q) cosines between the columns of a (N, p) and b (N, q); 0 for a zero column."""
    na = np.linalg.norm(a, axis=0)
    nb = np.linalg.norm(b, axis=0)
    scale = np.outer(np.where(na > 0, na, np.inf), np.where(nb > 0, nb, np.inf))
    return (a.T @ b) / scale


def circulant_fraction(block: np.ndarray) -> float:
    """Fraction of the variance of a square block's off-diagonal entries explained by their
    circulant part (the mean along each wrapped diagonal). The main diagonal is left out: a
    cosine matrix has ones there whatever the vectors, which would look circulant."""
    n = block.shape[0]
    i, j = np.indices((n, n))
    lag = ((j - i) % n).ravel()
    off = lag > 0
    values, lag = block.ravel()[off], lag[off]
    diag_mean = np.bincount(lag, weights=values, minlength=n) / np.maximum(
        np.bincount(lag, minlength=n), 1
    )
    total = ((values - values.mean()) ** 2).sum()
    if total == 0:
        return 1.0
    return float(1.0 - ((values - diag_mean[lag]) ** 2).sum() / total)


def family_order(collection: Collection) -> list[int]:
    """Rule indices sorted by task family (reach, dm, dlydm, match), stable within a family."""
    return sorted(
        range(collection.n_tasks), key=lambda i: FAMILIES.index(collection.tasks[i].family)
    )


def input_geometry(
    weight_ih: np.ndarray, collection: Collection | str | list[str]
) -> InputGeometry:
    """Cosines between the input weight vectors of ``weight_ih`` (N, n_in) (Fig 3c-e)."""
    coll = get_collection(collection)
    w = np.asarray(weight_ih, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != coll.n_inputs:
        raise LmrnnError(
            f"weight_ih must be (N, {coll.n_inputs}) for a collection of {coll.n_tasks} tasks, "
            f"got shape {w.shape}."
        )
    order = family_order(coll)
    rule = w[:, RULE_START:][:, order]
    stim = w[:, STIMULUS]
    stimulus = cosine_matrix(stim, stim)
    rings = (slice(0, RING), slice(RING, 2 * RING))
    return InputGeometry(
        tasks=tuple(coll.names[i] for i in order),
        families=tuple(coll.tasks[i].family for i in order),
        rule=cosine_matrix(rule, rule),
        rule_vs_fixation=cosine_matrix(rule, w[:, [FIXATION]])[:, 0],
        rule_vs_stimulus=cosine_matrix(rule, stim),
        stimulus=stimulus,
        circulant=np.array([circulant_fraction(stimulus[r, r]) for r in rings]),
    )
