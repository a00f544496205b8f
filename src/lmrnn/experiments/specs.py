"""The shape of an experiment: networks, a shared training base, evaluation points, claims.

An :class:`Experiment` is pure data: one figure or table of the paper, the claims it tests and,
per scale (``ci``, ``small``, ``medium``, ``paper``; ``medium`` only where a claim needs it), a
:class:`Scale` holding the training settings shared
by every network, the :class:`Network` list (each a few config overrides) and the named
evaluation points (gradient steps) at which the verdicts read performance. Verdicts are named
by key (see :mod:`lmrnn.experiments.claims`), so a spec serialises to JSON and back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from lmrnn.errors import LmrnnError, check_choice

SCALES = ("ci", "small", "medium", "paper")
KINDS = ("train", "graph")  # graph: no training, graph metrics only (Fig 1d)


@dataclass(frozen=True)
class Network:
    """One curve of a figure: a label and the config keys that differ from the scale's base.

    For ``graph`` experiments ``overrides`` holds ``n`` (lattice side), ``ds`` (radii) and
    ``seed`` (of the Erdős–Rényi graphs) instead of training keys.
    """

    label: str
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """A claim of paper-targets.md: its id (C1..C14, Table 1), text, the paper's value and the
    key of the verdict function that decides it from results.

    ``min_steps``: the training length below which the claim cannot be decided (the paper's
    10^4 steps for a claim about where training ends); ``min_best``: the final performance
    the experiment's best network must reach before comparisons between networks mean
    anything. Below either, the verdict is "inconclusive" (numbers still shown).
    """

    id: str
    text: str
    paper: str
    verdict: str
    min_steps: int = 0
    min_best: float = 0.0


@dataclass(frozen=True)
class Scale:
    """One size of an experiment.

    Attributes:
        base: TrainConfig keys shared by every network (collection, steps, seeds, ...).
        networks: the runs; each network's config is ``{**base, **network.overrides}``.
        points: name -> gradient step at which a verdict reads performance ("early", "final").
        analyses: lmrnn.analysis ``what``s run on every network after training.
        analysis_trials: trials per task for those analyses.
        cpu_minutes: rough wall-clock estimate on 2 CPU cores (documentation only).
        why: why this scale keeps the comparison the experiment's claims make (its sizes,
            steps and grids against the paper's).
    """

    base: dict[str, Any]
    networks: tuple[Network, ...]
    points: dict[str, int] = field(default_factory=dict)
    analyses: tuple[str, ...] = ()
    analysis_trials: int = 64
    cpu_minutes: float = 0.0
    why: str = ""


@dataclass(frozen=True)
class Experiment:
    """One figure or table of the paper, at the scales it has (ci, small and paper always)."""

    name: str
    figure: str
    kind: str
    claims: tuple[Claim, ...]
    scales: dict[str, Scale]

    def scale(self, scale: str) -> Scale:
        check_scale(scale)
        if scale not in self.scales:
            raise LmrnnError(
                f"{self.name} has no {scale} scale (it has {', '.join(self.scales)}): run it at "
                f"one of those; `lmrnn reproduce all --scale {scale}` runs every experiment "
                "that has one."
            )
        return self.scales[scale]

    def to_dict(self, scale: str) -> dict[str, Any]:
        """The experiment at one scale as JSON-ready data (stored with the results)."""
        return {
            "name": self.name, "figure": self.figure, "kind": self.kind, "scale": scale,
            "claims": [dataclasses.asdict(c) for c in self.claims],
            **dataclasses.asdict(self.scale(scale)),
        }  # fmt: skip


def check_scale(scale: str) -> str:
    return check_choice("scale", scale, SCALES)
