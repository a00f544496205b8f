"""Training recipes: the optimisation settings (gradient clipping, learning rate, recurrent init
gain) that every network of a comparison is trained with, by name.

``fair`` is the default of every run and every experiment: the setting chosen by the rule stated
in advance in ``lmrnn reproduce baselines`` (the same grid and budget for every network family,
one common setting kept only if it is within :data:`COMMON_TOLERANCE` of each family's own best;
see :mod:`lmrnn.experiments.baselines` and ``docs/results/small/baselines``). ``legacy`` is the
recipe every run used before it (no clipping): kept as a named variant, since under it the dense
baseline does not learn Mod-Cog at all.

A recipe may give a family its own values (``FAMILY_OVERRIDES``); the families are the graph
kinds, with a dense graph under an L1 penalty counted as its own family, ``l1``. A key given
explicitly in a config (``clip=5``) wins over its recipe.
"""

from __future__ import annotations

from typing import Any

from lmrnn.errors import check_choice

#: The keys a recipe sets. ``clip`` 0 means no clipping.
RECIPE_KEYS = ("clip", "lr", "gain")
FAMILIES = ("locality", "dense", "l1", "erdos_renyi", "small_world", "autapse", "frozen_autapse")

# The fair recipe, as the rule chose it from the small-scale grid in two stages (2026-12-06,
# 500 steps of 4 x 350; stage 1 one seed per setting, stage 2 its candidates on three more
# seeds beside the densest LM and the strongest L1 network; docs/results/small/baselines).
# The least-regret common setting (clip 5, lr 1e-3, gain 1, the only one with no lost seed for
# the dense and L1 networks on Mod-Cog) was 0.52 below the frozen pool's best, far more than
# the 0.03 tolerance, so each family gets its own least-regret setting among those where none
# of its seeds diverged. Every chosen setting lost no seed in either stage.
RECIPES: dict[str, dict[str, Any]] = {
    "fair": {"clip": 5.0, "lr": 1e-3, "gain": 1.0},
    "legacy": {"clip": 0.0, "lr": 1e-3, "gain": 1.0},
}
#: recipe -> family -> values that differ from the recipe's common ones.
FAMILY_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "fair": {
        "locality": {"clip": 0.0, "lr": 3e-3, "gain": 1.0},
        "erdos_renyi": {"clip": 1.0, "lr": 3e-3, "gain": 1.0},
        "small_world": {"clip": 1.0, "lr": 3e-3, "gain": 1.0},
        "autapse": {"clip": 1.0, "lr": 3e-3, "gain": 1.0},
        "frozen_autapse": {"clip": 1.0, "lr": 3e-3, "gain": 1.0},  # W = I: gain 1 by convention
    },
    "legacy": {},
}
#: A common setting is kept for every family when it is at most this far (mean decision
#: accuracy) below each family's best setting of the grid.
COMMON_TOLERANCE = 0.03


def family(graph: str, l1: float) -> str:
    """The recipe family of a network: its graph kind, or ``l1`` for a penalised dense graph."""
    return "l1" if graph == "dense" and l1 > 0 else graph


def recipe_values(name: str, graph: str, l1: float = 0.0) -> dict[str, Any]:
    """The values of ``clip``, ``lr`` and ``gain`` that recipe ``name`` gives this network."""
    check_choice("recipe", name, tuple(RECIPES))
    return {**RECIPES[name], **FAMILY_OVERRIDES[name].get(family(graph, l1), {})}


__all__ = ["COMMON_TOLERANCE", "FAMILIES", "RECIPES", "RECIPE_KEYS", "family", "recipe_values"]
