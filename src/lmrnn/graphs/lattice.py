"""Geometry of the n×n periodic lattice (a torus) on which the hidden units sit.

Units are numbered row by row: unit ``i`` sits at row ``i // n`` and column ``i % n``.
Distances are Euclidean with the minimum-image convention on each axis, in lattice
spacings. A unit is at distance 0 from itself, so every neighbourhood includes the unit.
"""

from __future__ import annotations

import math

import torch

from lmrnn.graphs.checks import check_int, check_radius, squared_radius


def lattice_coords(n: int) -> torch.Tensor:
    """(row, column) of every unit: (N, 2) int64, N = n*n, unit i at (i // n, i % n)."""
    n = check_int("lattice side n", n)
    idx = torch.arange(n * n)
    return torch.stack([idx // n, idx % n], dim=1)


def torus_offset(n: int) -> torch.Tensor:
    """Minimum-image (row, column) offsets of all pairs: (N, N, 2) int64, each in [0, n//2]."""
    xy = lattice_coords(n)
    delta = (xy[:, None, :] - xy[None, :, :]).abs()
    return torch.minimum(delta, n - delta)


def torus_distance(n: int) -> torch.Tensor:
    """Euclidean minimum-image distance of all pairs: (N, N) float64, in lattice spacings."""
    off = torus_offset(n).double()
    return off.square().sum(-1).sqrt()


def within(n: int, d: float) -> torch.Tensor:
    """(N, N) bool: True where the torus distance between units i and j is <= d."""
    n, d = check_int("lattice side n", n), check_radius("locality radius d", d)
    res = torch.arange(n)
    img = torch.minimum(res, n - res)  # minimum image of each row or column residue
    near = img[:, None] ** 2 + img[None, :] ** 2 <= squared_radius(d)  # (n, n) over residues
    gap = (res[:, None] - res[None, :]) % n  # (n, n): residue of r_i - r_j
    # near[gap(r_i, r_j), gap(c_i, c_j)] laid out as (r_i, c_i, r_j, c_j): N² bools, no more
    return near[gap[:, None, :, None], gap[None, :, None, :]].reshape(n * n, n * n)


def locality_degree(d: float, n: int | None = None) -> int:
    """Units within distance d of a unit, itself included: its in-degree under the locality mask.

    Without ``n`` this counts integer points (x, y) with x² + y² <= d² (1 at d=0, 5 at d=1,
    13 at d=2, 113 at d=6, 317 at d=10). With ``n`` it counts distinct units on the n×n
    torus, which is smaller once 2d + 1 > n (offsets that wrap onto the same unit count once).
    """
    k = squared_radius(check_radius("locality radius d", d))
    if n is None:
        r = math.isqrt(k)
        return sum(2 * math.isqrt(k - x * x) + 1 for x in range(-r, r + 1))
    n = check_int("lattice side n", n)
    res = torch.arange(n)
    img = torch.minimum(res, n - res)  # minimum image of each residue
    return int((img[:, None] ** 2 + img[None, :] ** 2 <= k).sum())
