"""Leaky (continuous-time) units and Dale's law: a plain PyTorch reference, every back-end that
runs them, signs that training keeps, the init's spectrum, and bad values in one sentence."""

import pytest
import torch

from lmrnn.errors import LmrnnError
from lmrnn.experiments.jobs import make_job
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig
from lmrnn.models.activations import ACTIVATIONS
from lmrnn.models.counts import count_parameters
from lmrnn.train import from_dict, train

GRAPHS = [
    {"graph": "locality", "n": 6, "d": 1.0},
    {"graph": "dense", "n_units": 30},
    {"graph": "erdos_renyi", "n": 6, "d": 1.5},
    {"graph": "small_world", "n": 6, "d": 1.5, "local_radius": 1.0},
]


def assert_close(a: torch.Tensor, b: torch.Tensor, rel: float = 1e-5) -> None:
    """Equal within ``rel`` of the reference's largest magnitude (float32 sums differ in order)."""
    a, b = a.detach(), b.detach()
    assert float((a - b).abs().max()) <= rel * float(b.abs().max()) + 1e-7


def reference(model: MaskedRNN, u: torch.Tensor) -> torch.Tensor:
    """h <- (1 - a) h + a φ(W h + W_in u + b), step by step in plain PyTorch: (T, B, N)."""
    a, phi = model.config.alpha, ACTIVATIONS[model.config.activation]
    w = model.weight_hh * model.mask
    h = model.h0.expand(u.shape[1], -1)
    out = []
    for x in u:
        h = (1 - a) * h + a * phi(h @ w.T + x @ model.weight_ih.T + model.bias_h)
        out.append(h)
    return torch.stack(out)


BACKENDS_BY_ACTIVATION = [
    (activation, backend)
    for backend in ("dense", "batched", "sparse", "sparse-numba", "sparse-torch", "fused")
    for activation in ("relu", "tanh", "softplus")
    if not (backend == "fused" and activation == "softplus")  # fused runs relu and tanh
]


@pytest.mark.parametrize("alpha", [1.0, 0.5, 0.2])
@pytest.mark.parametrize(("activation", "backend"), BACKENDS_BY_ACTIVATION)
def test_leaky_units_equal_a_plain_pytorch_reference(activation, alpha, backend, monkeypatch):
    if backend.startswith("sparse-"):  # the sparse back-end's other loops: numba's, torch's
        import lmrnn.models.backends.sparse as sparse

        monkeypatch.setattr(sparse, "LOOPS", backend.split("-")[1])
        backend = "sparse"
    for i, graph in enumerate(GRAPHS):
        if backend == "sparse" and graph["graph"] not in ("locality", "erdos_renyi"):
            continue  # sparse runs graphs whose units all have one in-degree
        if backend == "fused" and graph["graph"] == "dense":
            continue  # (fused runs sparse graphs; Triton's CPU interpreter is slow)
        config = ModelConfig(**graph, activation=activation, alpha=alpha, backend=backend,
                             n_in=5, n_out=3, seed=i)  # fmt: skip
        model = MaskedRNN(config)
        u = torch.randn(12, 4, 5, generator=torch.Generator().manual_seed(i))
        _, hidden = model(u)
        expected = reference(model, u)
        assert_close(hidden, expected)
        grads = torch.autograd.grad(hidden.square().sum(), [model.weight_hh, model.weight_ih])
        ref = torch.autograd.grad(expected.square().sum(), [model.weight_hh, model.weight_ih])
        for g, r in zip(grads, ref, strict=True):
            assert_close(g, r)


def test_leaky_autapse_pools_run_banded_and_equal_dense():
    u = torch.randn(3, 15, 4, 5)
    outs = {}
    for backend in ("banded", "dense"):
        config = ModelConfig(graph="autapse", n=5, alpha=0.3, backend=backend, n_in=5, n_out=3)
        model = EnsembleRNN(config, [0, 1, 2])
        logits, _ = model(u)
        outs[backend] = (logits, torch.autograd.grad(logits.sum(), model.weight_hh)[0])
    for a, b in zip(outs["banded"], outs["dense"], strict=True):
        assert_close(a, b)


def test_auto_picks_a_back_end_that_runs_leaky_units_and_others_say_so():
    sparse_net = ModelConfig(graph="locality", n=20, d=2.0, alpha=0.2)
    assert MaskedRNN(sparse_net).backend_for("cpu") == "sparse"
    for n, d in ((30, 6.0), (50, 14.0), (16, 7.0)):
        big = ModelConfig(graph="locality", n=n, d=d, alpha=0.2)
        assert MaskedRNN(big).backend_for("cpu") in ("dense", "batched", "sparse")
    assert MaskedRNN(ModelConfig(graph="autapse", n=20, alpha=0.2)).backend_for("cpu") == "sparse"
    with pytest.raises(LmrnnError, match="back-end 'cudnn' does not run leaky units"):
        MaskedRNN(sparse_net.replace(backend="cudnn"))
    assert MaskedRNN(sparse_net.replace(backend="fused")).config.backend == "fused"
    with pytest.raises(LmrnnError, match="'banded' does not run leaky"):
        MaskedRNN(sparse_net.replace(backend="banded"))


def test_leaky_noise_is_scaled_as_yang_et_al():
    plain = MaskedRNN(ModelConfig(graph="dense", n_units=8, noise_std=0.1))
    leaky = MaskedRNN(ModelConfig(graph="dense", n_units=8, noise_std=0.1, alpha=0.2))
    assert plain.noise_std == 0.1
    assert abs(leaky.noise_std - 0.1 * (2 / 0.2) ** 0.5) < 1e-12


def test_tau_sets_alpha_from_the_battery_dt_and_bad_values_fail_first(tmp_path):
    base = {"collection": ["go"], "n": 4, "d": 1.0, "out": str(tmp_path / "r")}
    assert from_dict({**base, "tau": 500}).model_config().alpha == pytest.approx(0.2)
    assert from_dict({**base, "tau": 100}).model_config().alpha == 1.0  # tau = dt
    assert from_dict(base).model_config().alpha == 1.0
    bad = [({"tau": 50}, "tau must be a time constant in ms of at least dt = 100 ms"),
           ({"tau": 0}, "tau must be"), ({"dale": "yes"}, "dale must be true or false"),
           ({"dale": True, "excitatory": 1.5}, "excitatory must be a fraction in \\(0, 1\\]"),
           ({"dale": True, "excitatory": 0}, "excitatory must be a fraction"),
           ({"dale": True, "graph": "autapse"}, "Dale's law fixes the sign"),
           ({"dale": True, "graph": "frozen_autapse"}, "Dale's law fixes the sign")]  # fmt: skip
    for changes, message in bad:
        with pytest.raises(LmrnnError, match=message):
            from_dict({**base, **changes})
    assert not (tmp_path / "r").exists()


def test_dale_signs_hold_through_training_on_every_graph(tmp_path):
    for i, graph in enumerate(GRAPHS):
        overrides = {k: v for k, v in graph.items()}
        if graph["graph"] == "dense":
            overrides = {"graph": "dense", "n": None, "n_units": 30}
        config = from_dict({
            "collection": ["go", "dm1"], **overrides, "dale": True, "batch_size": 4,
            "seq_len": 30, "steps": 30, "eval_every": 30, "eval_trials": 4, "seeds": [0, 1],
            "out": str(tmp_path / str(i)), "device": "cpu",
        })  # fmt: skip
        model = train(config, progress=False).model
        w, sign = model.recurrent_weight().detach(), model.sign
        assert sign.shape == (2, model.n_units)
        assert (sign > 0).float().mean(1).tolist() == pytest.approx([0.8, 0.8], abs=0.02)
        assert ((w * sign[:, None, :]) >= 0).all(), graph  # every weight has its sender's sign
        assert (w[model.mask] != 0).float().mean() > 0.5  # most stay non-zero (lr 3e-3)
        first = EnsembleRNN(config.model_config(), config.seeds).weight_hh
        assert not torch.equal(first, model.weight_hh)  # it did train


def test_dale_init_keeps_the_spectral_radius_and_the_counts():
    for graph in [*GRAPHS, {"graph": "locality", "n": 20, "d": 2.0},
                  {"graph": "dense", "n_units": 400}]:  # fmt: skip
        radii = {}
        for excitatory in (None, 0.8):
            values = []
            for seed in range(3):
                m = MaskedRNN(ModelConfig(**graph, excitatory=excitatory, seed=seed))
                values.append(torch.linalg.eigvals(m.recurrent_weight().detach()).abs().max())
            radii[excitatory] = float(sum(values) / 3)
        # the unconstrained radii span 0.45-1.1 over these graphs; Dale's stay near each one
        assert 0.6 <= radii[0.8] / radii[None] <= 1.6 and 0.35 <= radii[0.8] <= 1.25, (graph, radii)
    free = MaskedRNN(ModelConfig(graph="locality", n=10, d=2.0))
    dale = MaskedRNN(ModelConfig(graph="locality", n=10, d=2.0, excitatory=0.8))
    n_free = sum(p.numel() for p in free.parameters())
    assert n_free == sum(p.numel() for p in dale.parameters())
    assert count_parameters("lattice", 10, 2.0, 20).total > 0  # the paper's rule: no sign term


def test_the_new_keys_at_their_defaults_keep_run_ids():
    base = {"collection": ["go"], "n": 4, "d": 1.0}
    before = make_job("train", base)
    assert make_job("train", {**base, "tau": None, "dale": False}).id == before.id
    assert make_job("train", {**base, "tau": 500}).id != before.id
    assert make_job("train", {**base, "dale": True}).id != before.id
