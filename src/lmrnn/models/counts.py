"""Parameter counts: non-zero recurrent weights, W_in, W_out and biases of a network.

The paper's rule (paper-targets.md): count = non-zero W entries + W_in + W_out, biases left
out (reported separately), with n_in = 1 + 32 + n_tasks (fixation, two 16-unit rings, one
rule input per task) and n_out = 17. :data:`PAPER_ROWS` holds every figure the paper
prints, and :func:`paper_table` puts ours beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lmrnn.errors import check_choice
from lmrnn.graphs import locality_degree
from lmrnn.graphs.checks import check_int, check_radius

N_OUT = 17
NETWORK_KINDS = ("lattice", "dense", "autapse")


def n_inputs(n_tasks: int) -> int:
    """Input size for a collection of n_tasks: fixation + 2 rings of 16 + one rule per task."""
    return 1 + 32 + check_int("number of tasks", n_tasks)


@dataclass(frozen=True)
class ParameterCount:
    """Counts of one network. ``total`` leaves the biases out, as the paper does."""

    recurrent: int
    input: int
    output: int
    biases: int

    @property
    def total(self) -> int:
        return self.recurrent + self.input + self.output


def count_parameters(
    kind: str, size: int, d: float = 0.0, n_tasks: int = 20, n_out: int = N_OUT
) -> ParameterCount:
    """Count a network without building it.

    Args:
        kind: "lattice" (LM-RNN on a size×size torus with radius d), "dense" (size units,
            all-to-all) or "autapse" (size units, each only to itself).
        size: lattice side for "lattice", number of units otherwise.
        d: locality radius in lattice spacings ("lattice" only).
        n_tasks: rule inputs; n_in = 1 + 32 + n_tasks. n_out: outputs.
    """
    check_choice("network kind", kind, NETWORK_KINDS)
    size, n_in, n_out = check_int("size", size), n_inputs(n_tasks), check_int("n_out", n_out)
    d = check_radius("locality radius d", d)
    if kind == "lattice":
        units, recurrent = size * size, size * size * locality_degree(d, size)
    else:
        units = size
        recurrent = size * size if kind == "dense" else size
    return ParameterCount(recurrent, units * n_in, units * n_out, units + n_out)


def count_model(model: torch.nn.Module) -> ParameterCount:
    """Count a built :class:`MaskedRNN` (non-zero recurrent weights = edges of its graph)."""
    w_in, w_out = model.weight_ih, model.weight_ho
    return ParameterCount(
        int(model.mask.sum()),
        w_in.numel(),
        w_out.numel(),
        model.bias_h.numel() + model.bias_o.numel(),
    )


@dataclass(frozen=True)
class PaperRow:
    """One figure the paper prints: which network, which count, and the figure."""

    label: str
    kind: str
    size: int
    d: float
    n_tasks: int
    quantity: str  # "total" or "recurrent"
    paper: float
    paper_text: str

    def count(self) -> ParameterCount:
        return count_parameters(self.kind, self.size, self.d, self.n_tasks)

    def ours(self) -> int:
        return getattr(self.count(), self.quantity)


MODCOG_TASKS = 82
PAPER_ROWS = (
    PaperRow("RNN(N=196), 20 tasks", "dense", 196, 0, 20, "total", 5.2e4, "5.2×10⁴"),
    PaperRow("RNN(N=256), 20 tasks", "dense", 256, 0, 20, "total", 8.3e4, "8.3×10⁴"),
    PaperRow(
        "625 autapses (25×25, d=0), 20 tasks", "lattice", 25, 0, 20, "total", 4.4e4, "4.4×10⁴"
    ),
    PaperRow("LM-RNN(25×25, d=2), 20 tasks", "lattice", 25, 2, 20, "total", 5.2e4, "5.2×10⁴"),
    PaperRow("LM-RNN(25×25, d=4), 20 tasks", "lattice", 25, 4, 20, "total", 7.4e4, "7.4×10⁴"),
    PaperRow("LM-RNN(50×50, d=6), Mod-Cog", "lattice", 50, 6, 82, "recurrent", 2.82e5, "2.82×10⁵"),
    PaperRow(
        "LM-RNN(50×50, d=10), Mod-Cog", "lattice", 50, 10, 82, "recurrent", 7.92e5, "7.92×10⁵"
    ),
    PaperRow("RNN(N=676), Mod-Cog", "dense", 676, 0, 82, "recurrent", 4.57e5, "4.57×10⁵"),
    PaperRow("RNN(N=2500), Mod-Cog", "dense", 2500, 0, 82, "recurrent", 6.25e6, "6.25×10⁶"),
    PaperRow("LM-RNN(50×50, d=6), Mod-Cog", "lattice", 50, 6, 82, "total", 6.17e5, "6.17×10⁵"),
    PaperRow("LM-RNN(50×50, d=10), Mod-Cog", "lattice", 50, 10, 82, "total", 1.13e6, "1.13×10⁶"),
    PaperRow("RNN(N=676), Mod-Cog", "dense", 676, 0, 82, "total", 5.47e5, "5.47×10⁵"),
    PaperRow("RNN(N=2500), Mod-Cog", "dense", 2500, 0, 82, "total", 6.58e6, "6.58×10⁶"),
)


def format_counts(
    labels: list[str], counts: list[ParameterCount], paper: list[PaperRow] | None = None
) -> str:
    """A plain-text table; with ``paper`` rows, the paper's figure and our difference too."""
    head = f"{'network':<38} {'recurrent':>11} {'W_in':>9} {'W_out':>9} {'biases':>7} {'total':>11}"
    if paper:
        head += f"  {'paper':>9} {'ours':>11} {'which':>9} {'diff':>7}"
    lines = [head]
    for i, (label, c) in enumerate(zip(labels, counts, strict=True)):
        line = (
            f"{label:<38} {c.recurrent:>11,} {c.input:>9,} {c.output:>9,} {c.biases:>7,} "
            f"{c.total:>11,}"
        )
        if paper:
            row = paper[i]
            diff = (row.ours() - row.paper) / row.paper
            line += f"  {row.paper_text:>9} {row.ours():>11,} {row.quantity:>9} {diff:>+7.2%}"
        lines.append(line)
    lines.append("total = recurrent (non-zero W) + W_in + W_out, biases left out as in the paper")
    return "\n".join(lines)


def paper_table() -> str:
    """Every parameter count the paper prints, with ours beside it."""
    counts = [row.count() for row in PAPER_ROWS]
    table = format_counts([r.label for r in PAPER_ROWS], counts, list(PAPER_ROWS))
    sizes = f"n_in = 1 + 32 + n_tasks: 53 for 20 tasks, {n_inputs(MODCOG_TASKS)} for Mod-Cog"
    return f"{table}\n({sizes}'s {MODCOG_TASKS} tasks; n_out = {N_OUT})"
