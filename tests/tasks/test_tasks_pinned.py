"""The data streams are pinned: the same seed gives the same batches from one version of the
code to the next, so that committed results (docs/results/) and the demo's printed numbers can
be reproduced.

Only what does not depend on floating-point details of the machine is pinned: targets, tasks,
periods, trial starts and where the input noise goes (the draws of torch's Mersenne-Twister
generator are the same on every machine; the noise values themselves may differ in the last
bit between vectorised and scalar CPU code). A change that alters a stream on purpose updates
these digests and says, beside the results made with the older streams, that they were.
"""

import hashlib

import pytest
import torch

from lmrnn.tasks import stream_batch, trial_batch


def digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    ("collection", "stream", "noisy", "trials"),
    [
        ("modcog82", "836f592dccbec4d3", 11216, "84a42060c902fd66"),
        ("yang20", "cdb2844a2104290e", 13808, "73cd48ca249b5f13"),
    ],
)
def test_batches_of_a_seed_are_those_of_earlier_versions(collection, stream, noisy, trials):
    b = stream_batch(collection, 8, 200, seed=7)
    quiet = stream_batch(collection, 8, 200, seed=7, noise=False)
    noise_at = b.inputs != quiet.inputs
    assert int(noise_at.sum()) == noisy
    assert digest(b.targets, b.task, b.period, b.trial_start, noise_at) == stream
    t = trial_batch(collection, None, 16, seed=7)
    assert digest(t.targets, t.mask, t.task, t.period_starts, t.stim_dir) == trials
