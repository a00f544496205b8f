"""Which verdicts depend on a model choice the paper leaves open: the ``sensitivity-*``
experiments, judged per variant.

``sensitivity-fig2a`` (C2), ``sensitivity-fig3`` (C4, C5) and ``sensitivity-fig3i`` (C6) train
the networks of fig2a, fig3 and fig3i under every variant of
:data:`~lmrnn.experiments.catalog.SENSITIVITY_VARIANTS` (leak, activation, recipe; Dale's law
for C2); ``sensitivity-fig5a`` (C8) and ``sensitivity-table1`` (C13), at medium scale, train
the Mod-Cog networks under the fair recipe and under one recipe for all
(:data:`~lmrnn.experiments.catalog.MODCOG_SENSITIVITY_VARIANTS`). Each network is labelled
``"<variant> | <the base experiment's label>"``. A variant's
networks, relabelled, form a result of the base experiment, which the base experiment's own
verdict rules judge (:func:`lmrnn.experiments.claims.judge`): the same tests, the same
thresholds, only the model differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lmrnn.experiments.claims import Verdict, judge
from lmrnn.experiments.results import ExperimentResult

PREFIX = "sensitivity-"
SEPARATOR = " | "
DEFAULT = "a=1, relu, fair"
"""The variant that is the project's own model: the paper's equation, relu, the fair recipe."""


@dataclass(frozen=True)
class Row:
    """One claim under one variant."""

    claim: str
    variant: str
    verdict: str
    ours: str


def variant_results(result: ExperimentResult) -> dict[str, ExperimentResult]:
    """Variant -> the base experiment's result made of that variant's networks."""
    from lmrnn.experiments.catalog import EXPERIMENTS

    base_name = result.name[len(PREFIX) :]
    base = EXPERIMENTS[base_name].to_dict(result.scale)
    out: dict[str, ExperimentResult] = {}
    variants = dict.fromkeys(n["label"].split(SEPARATOR)[0] for n in result.spec["networks"])
    for variant in variants:
        mine = [n for n in result.spec["networks"] if n["label"].startswith(variant + SEPARATOR)]
        labels = {n["label"]: n["label"].split(SEPARATOR, 1)[1] for n in mine}
        networks = {}
        for label, short in labels.items():
            if label in result.networks:
                networks[short] = replace(result.networks[label], label=short)
        spec = {**base, "networks": [{**n, "label": labels[n["label"]]} for n in mine]}
        out[variant] = ExperimentResult(base_name, result.scale, spec, networks)
    return out


def rows(results: list[ExperimentResult]) -> list[Row]:
    """Every claim of every sensitivity experiment in ``results``, judged under each variant."""
    out = []
    for result in results:
        if not result.name.startswith(PREFIX):
            continue
        for variant, sub in variant_results(result).items():
            verdicts: list[Verdict] = judge(sub)
            out += [Row(v.claim, variant, v.verdict, v.ours) for v in verdicts]
    return out


def table_lines(rows_: list[Row]) -> list[str]:
    """Claim x variant -> verdict, as plain lines (one claim per block)."""
    if not rows_:
        return ["no sensitivity runs yet (lmrnn reproduce sensitivity --scale small)"]
    lines = []
    for claim in dict.fromkeys(r.claim for r in rows_):
        lines.append(f"{claim}:")
        for r in (r for r in rows_ if r.claim == claim):
            lines.append(f"  {r.variant:<26} {r.verdict:<13} {r.ours}")
    return lines


def across(ours: str, verdicts: list[str]) -> str:
    """What a claim's verdicts under every variant say together (``ours``: the verdict under
    :data:`DEFAULT`): the same everywhere; the same wherever a variant decides it (the others
    inconclusive); or a model choice that changes it."""
    if len(set(verdicts)) == 1:
        return f"the same under every variant ({len(verdicts)})"
    decided = {v for v in verdicts if v in ("holds", "does not hold")}
    unrun = sum(v.startswith("not run") for v in verdicts)
    undecided = sum(v not in ("holds", "does not hold") for v in verdicts)
    if len(decided) == 1 and ours in decided:
        others = ("inconclusive" if not unrun else "not run yet" if unrun == undecided
                  else f"inconclusive or not run yet ({unrun} not run)")  # fmt: skip
        return (f"{ours} under every variant that decides it ({len(verdicts) - undecided} of "
                f"{len(verdicts)}; the others {others})")  # fmt: skip
    return "depends on the model choice"


def summary(rows_: list[Row]) -> dict[str, str]:
    """Claim -> :func:`across` of its verdicts, with each variant's verdict where a choice
    changes it."""
    out = {}
    for claim in dict.fromkeys(r.claim for r in rows_):
        mine = [r for r in rows_ if r.claim == claim]
        ours = next((r.verdict for r in mine if r.variant == DEFAULT), "not run")
        said = across(ours, [r.verdict for r in mine])
        if said == "depends on the model choice":
            said += ": " + ", ".join(f"{r.variant}: {r.verdict}" for r in mine)
        out[claim] = said
    return out


__all__ = ["DEFAULT", "Row", "across", "rows", "summary", "table_lines", "variant_results"]
