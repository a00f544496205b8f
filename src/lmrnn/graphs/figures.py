"""The paper's Fig 1d: diameter, average shortest path and clustering of LM vs ER graphs.

Drawn with matplotlib's object API and the Agg canvas, so no global backend is touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from lmrnn.graphs.comparison import ComparisonRow


def _finite(values: list[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return np.where(np.isfinite(arr), arr, np.nan)  # disconnected graphs leave a gap


def plot_fig1d(rows: Sequence[ComparisonRow], path: str | Path, n: int) -> Path:
    """Write a three-panel PNG (diameter, average path, clustering vs d) and return its path."""
    ds = [r.d for r in rows]
    panels = [
        ("diameter", lambda m: m.diameter),
        ("average shortest path", lambda m: m.avg_shortest_path),
        ("average clustering", lambda m: m.clustering),
    ]
    fig = Figure(figsize=(10, 3.2), layout="constrained")
    for ax, (title, get) in zip(fig.subplots(1, 3), panels, strict=True):
        ax.plot(ds, _finite([get(r.lm) for r in rows]), "o-", label="LM (locality)")
        ax.plot(ds, _finite([get(r.er) for r in rows]), "s--", label="ER (same in-degree)")
        ax.set_xlabel("d (lattice spacings)")
        ax.set_title(title)
    fig.axes[0].legend()
    fig.suptitle(f"LM vs ER graphs on a {n}×{n} torus (inf values not drawn)")
    path = Path(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path
