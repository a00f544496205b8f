"""The four task families: what each trial shows on which ring, and the answer it asks for.

Each family reads as a short script over the canonical periods (see
:mod:`lmrnn.tasks.timing`) and is vectorised over trials: every function takes and returns
tensors with a leading trial dimension M. Directions are ring indices 0..15 (angle 2πi/16);
labels are 0 (fixate) or direction + 1.

* reach (go, anti, rtgo, rtanti, dlygo, dlyanti): one bump on one ring (modality drawn per
  trial) during stim1 (during decision for the reaction-time tasks); answer: the stimulus
  direction, or the opposite one (+8) for anti.
* dm (dm1, dm2, ctxdm1, ctxdm2, multidm): bumps at two different directions θ1, θ2 in every ring
  shown during stim1, with strengths 0.5 ± c/2 (c ∈ {0.08, 0.16, 0.32, 0.64}, random sign,
  independently per ring); answer: θ1 if Σ_rings w·s(θ1) > Σ_rings w·s(θ2), else θ2.
* dlydm (the delayed versions): the bump at θ1 during stim1 and the one at θ2 during stim2, with
  two different strengths from {0.3, 0.6, 1.0} per ring shown; same answer rule.
* match (dms, dnms, dmc, dnmc): sample during stim1 and test during stim2 on one ring; match or
  non-match with probability 1/2; dms/dnms: the test equals the sample on a match, opposite (+8)
  on a non-match; dmc/dnmc: categories split at π (0..7 vs 8..15), the test uniform over the
  8 directions of the sample's category on a match, of the other category otherwise. Respond at
  the test direction if (match == go_on_match), else keep fixating.

Exact ties of the weighted sums (possible in multidm and multidlydm) are broken at random, as
neurogym does.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import torch

from lmrnn.tasks.collection import RING

HALF = RING // 2
DM_COHERENCES = (0.08, 0.16, 0.32, 0.64)
DLYDM_STRENGTHS = (0.3, 0.6, 1.0)
BUMP_AMPLITUDE = 0.8


def lookup(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` for an integer ``index`` of any shape: rows of ``table`` (R, ...) in
    the shape ``(*index.shape, ...)``, by ``index_select`` (on a CPU about twice as fast as
    advanced indexing on the small per-trial tables)."""
    if index.dim() == 1:
        return table.index_select(0, index)
    return table.index_select(0, index.reshape(-1)).view(*index.shape, *table.shape[1:])


def bump_table(device: torch.device | str = "cpu") -> torch.Tensor:
    """(16, 16) float32: row i is the ring's response to a unit-strength stimulus at direction i.

    ``0.8 · exp(-δ²/2)``, δ the circular distance between direction i and each unit's preferred
    angle, in units of π/8 (one ring unit). Cached per device.
    """
    return _bump_table(torch.device(device))


@functools.cache
def _bump_table(device: torch.device) -> torch.Tensor:
    i = torch.arange(RING, dtype=torch.float64)
    diff = (i[:, None] - i[None, :]).abs()
    delta = torch.minimum(diff, RING - diff) * (2 * math.pi / RING) / (math.pi / 8)
    return (BUMP_AMPLITUDE * torch.exp(-(delta**2) / 2)).to(torch.float32).to(device)


def category(direction: torch.Tensor) -> torch.Tensor:
    """Category of a direction for dmc/dnmc: 0 for 0..7 (angles below π), 1 for 8..15."""
    return (direction >= HALF).long()


def reach_response(stim_dir: torch.Tensor, anti: torch.Tensor) -> torch.Tensor:
    """Label for go/anti: the stimulus direction, or the opposite one for anti. Shapes (M,)."""
    return (stim_dir + HALF * anti.long()) % RING + 1


def dm_response(
    dir1: torch.Tensor,
    dir2: torch.Tensor,
    strength1: torch.Tensor,
    strength2: torch.Tensor,
    weights: torch.Tensor,
    shown: torch.Tensor,
    tie: torch.Tensor,
) -> torch.Tensor:
    """Label for the DM families.

    Args:
        dir1, dir2: (M,) the two directions.
        strength1, strength2: (M, 2) per-ring strengths of the bumps at dir1 and dir2.
        weights: (M, 2) modality weights; shown: (M, 2) rings shown (bool or 0/1).
        tie: (M,) bool, the answer when the weighted sums are exactly equal (True: dir1).
    """
    w = weights * shown
    e1 = (w * strength1).sum(-1)
    e2 = (w * strength2).sum(-1)
    first = torch.where((e1 - e2).abs() <= 1e-9, tie, e1 > e2)
    return torch.where(first, dir1, dir2) + 1


def match_response(
    sample_dir: torch.Tensor,
    test_dir: torch.Tensor,
    by_category: torch.Tensor,
    go_on_match: torch.Tensor,
) -> torch.Tensor:
    """Label for the match family: the test direction if (match == go_on_match), else 0."""
    same_dir = sample_dir == test_dir
    same_cat = category(sample_dir) == category(test_dir)
    match = torch.where(by_category, same_cat, same_dir)
    return torch.where(match == go_on_match, test_dir + 1, 0)


class Draws(NamedTuple):
    """The random conditions of M trials, drawn once and read by every family."""

    dir1: torch.Tensor  # (M,) long
    dir2: torch.Tensor  # (M,) long, != dir1
    modality: torch.Tensor  # (M,) long 0/1: the ring of single-ring tasks
    coh: torch.Tensor  # (M, 2) signed dm coherence per ring
    dly_strengths: torch.Tensor  # (M, 2, 2) [stimulus, ring] two different strengths per ring
    match: torch.Tensor  # (M,) bool
    test_offset: torch.Tensor  # (M,) long 0..7: dmc test within its category
    tie: torch.Tensor  # (M,) bool


# Each trial's discrete random choices, one column each, with the number of values of each:
# dir1, dir2 - dir1 - 1, modality, coherence index and sign per ring, first dly-DM strength and
# second - first - 1 per ring, match, the dmc test within its category, the tie-break.
_CHOICES = (RING, RING - 1, 2, 4, 4, 2, 2, 3, 3, 2, 2, 2, HALF, 2)


def draw(m: int, gen: torch.Generator, device: torch.device) -> Draws:
    """Draw the conditions of ``m`` trials from ``gen`` (one uniform u per choice of k values:
    ⌊u·k⌋ is uniform over 0..k-1)."""
    choices, largest = _choices(device)
    k = torch.rand(m, len(_CHOICES), generator=gen, device=device) * choices
    k = torch.minimum(k, largest).long()  # a guard: u < 1 on every device
    (dir1, dir2_step, modality, _, _, _, _, _, _, _, _, match, test_offset, tie) = k.unbind(1)
    signed_cohs, levels = _levels(device)
    coh = lookup(signed_cohs, k[:, 3:5] + len(DM_COHERENCES) * k[:, 5:7])  # (M, 2) per ring
    first = k[:, 7:9]
    second = (first + 1 + k[:, 9:11]) % 3
    return Draws(
        dir1, (dir1 + 1 + dir2_step) % RING, modality, coh,
        lookup(levels, torch.stack([first, second], dim=1)), match.bool(), test_offset, tie.bool(),
    )  # fmt: skip


@functools.cache
def _choices(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(14,) float32 the number of values of each choice, and that minus one."""
    choices = torch.tensor(_CHOICES, dtype=torch.float32, device=device)
    return choices, choices - 1


@functools.cache
def _arange(n: int, device: torch.device) -> torch.Tensor:
    return torch.arange(n, device=device)


@functools.cache
def _levels(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The DM coherences signed (index: coherence + 4 * sign, sign 0: negative), and the
    dly-DM strengths."""
    cohs = torch.tensor(DM_COHERENCES)
    signed = torch.cat([cohs * -1, cohs * 1])
    return signed.to(device), torch.tensor(DLYDM_STRENGTHS, device=device)


class Shown(NamedTuple):
    """What M trials show and ask, before Int/Seq and before rendering in time.

    Every stimulus is a weighted sum of bumps at the trial's two directions: ``amp[m, slot,
    ring, j]`` is the strength of the bump at ``dirs[m, j]`` on ``ring`` during ``slot`` (0:
    stim1, 1: stim2, 2: decision).
    """

    dirs: torch.Tensor  # (M, 2) long: first and second stimulus direction
    amp: torch.Tensor  # (M, 3, 2, 2) [slot, ring, direction j] bump strengths
    noisy: torch.Tensor  # (M, 2) float 0/1: rings that get input noise in stim periods
    response: torch.Tensor  # (M,) long label of the base task
    n_stimuli: torch.Tensor  # (M,) long: 1 (go family) or 2 directions shown

    def patterns(self, bumps: torch.Tensor) -> torch.Tensor:
        """(M, 3, 32) ring inputs during stim1, stim2 and decision."""
        m = self.dirs.shape[0]
        amp, b = self.amp.view(m, 6, 2), lookup(bumps, self.dirs)  # (M, slot·ring, j), (M, j, 16)
        out = amp[:, :, 0:1] * b[:, 0:1]
        return out.addcmul_(amp[:, :, 1:2], b[:, 1:2]).view(m, 3, 2 * RING)

    @property
    def stim_dir(self) -> torch.Tensor:
        """(M, 2) directions shown first and second (-1: none)."""
        none = torch.full_like(self.dirs[:, 1], -1)
        return torch.stack(
            [self.dirs[:, 0], torch.where(self.n_stimuli > 1, self.dirs[:, 1], none)], 1
        )

    @property
    def strength(self) -> torch.Tensor:
        """(M, 2, 2) [stimulus, ring] strength of each stimulus on each ring."""
        return self.amp.sum(1).transpose(1, 2)


def show(d: Draws, tab: dict[str, torch.Tensor]) -> Shown:
    """Every trial's :class:`Shown`, each by the rule of its own family (``tab``: the per-trial
    task parameters; ``tab["family"]``: (M,) index into :data:`lmrnn.tasks.registry.FAMILIES`).

    Every family shows at most two stimuli: A, the bump at ``dirs[:, 0]``, and B, the bump at
    ``dirs[:, 1]``, each in one slot with one strength per ring:

    ====== ============================== ====================================== =============
    family A (dir1)                       B                                      noisy rings
    ====== ============================== ====================================== =============
    reach  stim1 (decision if reaction),  none                                   none
           the drawn ring
    dm     stim1, s1 on the rings shown   dir2 in stim1, s2 on the rings shown   both
    dlydm  stim1, s1 on the rings shown   dir2 in stim2, s2 on the rings shown   both
    match  stim1 (sample), the drawn ring the test in stim2, the same ring        the drawn one
    ====== ============================== ====================================== =============

    Computed for all trials at once on a few numbers per trial: fixed shapes, no host
    synchronisation.
    """
    family = tab["family"]
    reach_, dm_, dlydm_, match_ = (family.unsqueeze(1) == _arange(4, family.device)).unbind(1)
    two_bumps = (dm_ | dlydm_).unsqueeze(1)  # (M, 1)
    shown = tab["shown"]  # (M, 2) float 0/1: rings shown by the DM families
    delayed = dlydm_.unsqueeze(1)
    s1 = torch.where(delayed, d.dly_strengths[:, 0], 0.5 + d.coh / 2) * shown
    s2 = torch.where(delayed, d.dly_strengths[:, 1], 0.5 - d.coh / 2) * shown
    one_ring = (d.modality.unsqueeze(1) == _arange(2, family.device)).float()  # (M, 2)

    by_category = tab["category"].bool()
    test = _match_test(d, by_category)
    dirs = torch.stack([d.dir1, torch.where(match_, test, d.dir2)], 1)
    m = family.shape[0]
    rows = torch.arange(m, device=family.device)
    amp = torch.zeros(m, 3, 2, 2, device=family.device)
    amp[rows, 2 * tab["reaction"].long(), :, 0] = torch.where(two_bumps, s1, one_ring)
    b_strength = torch.where(two_bumps, s2, one_ring * match_.unsqueeze(1))
    amp[rows, (dlydm_ | match_).long(), :, 1] = b_strength
    noisy = torch.where(two_bumps, 1.0, b_strength)

    response = torch.where(
        reach_,
        reach_response(d.dir1, tab["anti"]),
        torch.where(
            match_,
            match_response(d.dir1, test, by_category, tab["go_on_match"].bool()),
            dm_response(d.dir1, d.dir2, s1, s2, tab["weights"], tab["shown"], d.tie),
        ),
    )
    return Shown(dirs, amp, noisy, response, 2 - reach_.long())


def _match_test(d: Draws, by_category: torch.Tensor) -> torch.Tensor:
    """(M,) the test direction of the match family: dms/dnms: the sample on a match, the
    opposite direction otherwise; dmc/dnmc: uniform over the 8 directions of the sample's
    category on a match, of the other category otherwise."""
    same_dir_test = torch.where(d.match, d.dir1, d.dir1 ^ HALF)  # ^ HALF: the opposite direction
    test_cat = category(d.dir1) == d.match  # the sample's category on a match, the other's if not
    return torch.where(by_category, test_cat * HALF + d.test_offset, same_dir_test)
