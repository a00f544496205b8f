"""Seeds derived from other seeds: one place for the idiom every module uses."""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """A 32-bit seed from non-negative integers (numpy's ``SeedSequence``): different keys give
    independent streams, the same keys the same seed on every machine."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0])
