"""One wording for each bad input (lmrnn.checks), wherever the mistake is made: whole numbers,
seeds, fractions, devices, and a radius that wraps the lattice."""

import numpy as np
import pytest

from lmrnn.checks import check_device, check_fraction, check_int, check_seed
from lmrnn.errors import LmrnnError
from lmrnn.graphs import erdos_renyi, locality, locality_degree, masks, small_world
from lmrnn.graphs.checks import check_no_wrap
from lmrnn.models import ModelConfig, build_model
from lmrnn.tasks import StreamLoader, stream_batch, trial_batch
from lmrnn.train import from_dict
from torus_helpers import torus_graph

BASE = {"collection": ["go"], "n": 4, "d": 1.0, "out": "unused", "device": "cpu"}


def config(**changes):
    return from_dict({**BASE, **changes})


def refused(call) -> str:
    """The one sentence ``call`` is refused with."""
    with pytest.raises(LmrnnError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: config(steps=0), "steps must be a whole number >= 1, got 0."),
     (lambda: config(batch_size=2.5), "batch_size must be a whole number >= 1, got 2.5."),
     (lambda: config(n=True), "n must be a whole number >= 1, got True."),
     (lambda: trial_batch("yang20", "go", 0, seed=0),
      "batch_size must be a whole number >= 1, got 0."),
     (lambda: trial_batch("yang20", "go", 2, seed=0, seq_len=-3),
      "seq_len must be a whole number >= 1, got -3."),
     (lambda: stream_batch("yang20", 2, 0, seed=0), "seq_len must be a whole number >= 1, got 0."),
     (lambda: StreamLoader("yang20", 2, 10, seed=0, chunk=0),
      "chunk must be a whole number >= 1, got 0."),
     (lambda: StreamLoader("yang20", 2, 10, seed=0).batch(-1),
      "step must be a whole number >= 0, got -1."),
     (lambda: locality(0, 1.0), "lattice side n must be a whole number >= 1, got 0."),
     (lambda: erdos_renyi(10, 0, 0), "in_degree must be a whole number >= 1, got 0.")],
    ids=["config-steps", "config-float", "config-bool", "trial-batch", "trial-seq-len",
         "stream-batch", "stream-chunk", "stream-step", "locality", "erdos-renyi"],
)  # fmt: skip
def test_whole_numbers_have_one_wording(call, message):
    assert refused(call) == message


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: config(seeds=[0, -1]),
      "every seed must be a whole number in 0 .. 2**64 - 1, got -1."),
     (lambda: config(data_seed=2**64),
      "data_seed must be a whole number in 0 .. 2**64 - 1, got 18446744073709551616."),
     (lambda: config(eval_seed="1"),
      "eval_seed must be a whole number in 0 .. 2**64 - 1, got '1'."),
     (lambda: trial_batch("yang20", "go", 2, seed=-1),
      "seed must be a whole number in 0 .. 2**64 - 1, got -1."),
     (lambda: stream_batch("yang20", 2, 10, seed=1.0),
      "seed must be a whole number in 0 .. 2**64 - 1, got 1.0."),
     (lambda: StreamLoader("yang20", 2, 10, seed=2**64),
      "seed must be a whole number in 0 .. 2**64 - 1, got 18446744073709551616."),
     (lambda: erdos_renyi(10, 3, -1), "seed must be a whole number in 0 .. 2**64 - 1, got -1.")],
    ids=["config-seeds", "config-data-seed", "config-eval-seed", "trial-batch", "stream-batch",
         "stream-loader", "erdos-renyi"],
)  # fmt: skip
def test_seeds_have_one_wording(call, message):
    assert refused(call) == message


def test_fractions_have_one_wording():
    message = refused(lambda: config(dale=True, excitatory=1.5))
    assert message == "excitatory must be a fraction in (0, 1] (0.8 is the usual one), got 1.5."
    assert refused(lambda: config(dale=True, excitatory=0)).startswith(
        "excitatory must be a fraction in (0, 1]"
    )
    assert refused(lambda: check_fraction("share", True)) == (
        "share must be a fraction in (0, 1], got True."
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: config(device="tpu"), "unknown device 'tpu'; use auto, cpu, cuda or cuda:N."),
     (lambda: config(device="meta"),
      "device 'meta' is not supported; use auto, cpu, cuda or cuda:N."),
     (lambda: trial_batch("yang20", "go", 2, seed=0, device="tpu"),
      "unknown device 'tpu'; use cpu, cuda or cuda:N."),
     (lambda: stream_batch("yang20", 2, 10, seed=0, device="meta"),
      "device 'meta' is not supported; use cpu, cuda or cuda:N.")],
    ids=["config-unknown", "config-meta", "trial-batch", "stream-batch"],
)  # fmt: skip
def test_devices_have_one_wording(call, message):
    assert refused(call) == message


def test_a_radius_that_wraps_the_lattice_is_refused_by_training():
    """2d+1 > n wraps the disk onto itself (95 neighbours at d=6 on 10x10, not 113): a training
    config refuses it in the command line's words; the wrapped mask is still lmrnn.graphs.within's
    (a custom graph in tests and back-end checks)."""
    assert refused(lambda: config(n=10, d=6.0)) == (
        "d=6 needs a lattice side n of at least 13 (2d+1) so that a neighbourhood does not wrap "
        "onto itself, got n=10; use a larger n or a smaller d."
    )
    assert bool((torus_graph(10, 6.0).in_degree == 95).all())


WRAPS_5_3 = (
    "d=3 needs a lattice side n of at least 7 (2d+1) so that a neighbourhood does not wrap onto "
    "itself, got n=5; use a larger n or a smaller d."
)


@pytest.mark.parametrize(
    "call",
    [lambda: locality(5, 3),
     lambda: ModelConfig(graph="locality", n=5, d=3),
     lambda: ModelConfig(graph="locality", n=7, d=3).replace(n=5),
     lambda: small_world(5, 625, 3, 0),
     lambda: ModelConfig(graph="small_world", n=5, d=1, local_radius=3),
     lambda: ModelConfig(graph="small_world", n=5, d=3, local_radius=1),
     lambda: config(n=5, d=3.0)],
    ids=["locality", "model-config", "model-config-replace", "small-world",
         "model-config-local-radius", "model-config-small-world-d", "training"],
)  # fmt: skip
def test_a_radius_that_wraps_the_lattice_has_one_wording(call):
    """The public API refuses a wrapping radius in check_no_wrap's one sentence, as training and
    the command line do."""
    assert refused(call) == refused(lambda: check_no_wrap(5, 3)) == WRAPS_5_3


def test_a_wrapping_radius_is_refused_before_any_work(monkeypatch):
    def build(*args):
        raise AssertionError("a mask was built before the radius was checked")

    monkeypatch.setattr(masks, "within", build)
    monkeypatch.setattr(masks, "locality_degree", build)
    assert refused(lambda: locality(5, 3)) == WRAPS_5_3
    assert refused(lambda: small_world(5, 625, 3, 0)) == WRAPS_5_3


@pytest.mark.parametrize("d", [3, 3.5])
def test_a_radius_that_just_fits_the_lattice_is_accepted(d):
    """2⌊d⌋ + 1 = n = 7: every unit has the whole disk, none of it counted twice."""
    check_no_wrap(7, d)
    full = locality_degree(d)
    assert bool((locality(7, d).in_degree == full).all())
    model = build_model(ModelConfig(graph="locality", n=7, d=d, n_in=4, n_out=3))
    assert bool((model.graph.in_degree == full).all())
    assert small_world(7, 49 * full + 10, d, 0).n_edges == 49 * full + 10
    config_sw = ModelConfig(graph="small_world", n=7, d=d, local_radius=d, n_in=4, n_out=3)
    assert build_model(config_sw).graph.n_edges == 49 * full
    assert config(n=7, d=float(d)).n == 7


def test_the_checks_return_plain_python_values():
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert type(check_seed("seed", np.uint64(2**63))) is int
    assert check_fraction("excitatory", 1) == 1.0
    assert str(check_device("cpu")) == "cpu"
    assert config(steps=np.int64(7), seeds=[np.int64(2)]).to_dict()["steps"] == 7
    assert type(config(seeds=[np.int64(2)]).seeds[0]) is int
