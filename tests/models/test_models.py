"""The masked RNN: its equations, the mask through training, init, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch
import torch.nn.functional as F

from lmrnn.errors import LmrnnError
from lmrnn.graphs import dense, locality, locality_degree
from lmrnn.models import MaskedRNN, ModelConfig, build_graph, build_model, init_parameters


def small(**kw) -> ModelConfig:
    base = {"graph": "locality", "n": 5, "d": 1, "n_in": 4, "n_out": 3, "backend": "dense"}
    return ModelConfig(**{**base, **kw})


def reference_forward(model: MaskedRNN, u: torch.Tensor, phi) -> tuple[np.ndarray, np.ndarray]:
    """The paper's equations written out in float64 numpy, one unit at a time in spirit."""
    w = model.recurrent_weight().detach().double().numpy()
    w_in, b = model.weight_ih.detach().double().numpy(), model.bias_h.detach().double().numpy()
    w_out, b_o = model.weight_ho.detach().double().numpy(), model.bias_o.detach().double().numpy()
    h = np.zeros((u.shape[1], w.shape[0]))
    hs, os = [], []
    for u_t in u.double().numpy():
        h = phi(h @ w.T + u_t @ w_in.T + b)
        hs.append(h)
        os.append(h @ w_out.T + b_o)
    return np.stack(os), np.stack(hs)


@pytest.mark.parametrize(
    ("activation", "phi"),
    [
        ("relu", lambda x: np.maximum(x, 0)),
        ("tanh", np.tanh),
        ("softplus", lambda x: np.log1p(np.exp(x))),
    ],
)
def test_forward_is_the_papers_equation(activation, phi):
    model = build_model(small(activation=activation, n=4, d=1.5, seed=3))
    u = torch.randn(6, 3, 4)
    logits, hidden = model(u)
    o_ref, h_ref = reference_forward(model, u, phi)
    assert logits.shape == (6, 3, 3) and hidden.shape == (6, 3, 16)
    np.testing.assert_allclose(hidden.detach().numpy(), h_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits.detach().numpy(), o_ref, rtol=1e-5, atol=1e-6)


def test_initial_state_is_used():
    model = build_model(small())
    u = torch.zeros(1, 2, 4)
    h0 = torch.randn(2, 25)
    _, hidden = model(u, h0)
    expected = torch.relu(h0 @ model.recurrent_weight().t() + model.bias_h)
    torch.testing.assert_close(hidden[0], expected)


def _train(model: MaskedRNN, steps: int, check) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        u = torch.randn(8, 4, model.config.n_in, generator=gen)
        target = torch.randint(0, model.config.n_out, (8, 4), generator=gen)
        logits, _ = model(u)
        loss = F.cross_entropy(logits.reshape(-1, model.config.n_out), target.reshape(-1))
        opt.zero_grad()
        loss.backward()
        check(model, during_backward=True)
        opt.step()
        model.apply_mask_()
        check(model, during_backward=False)


@pytest.mark.parametrize("graph", ["locality", "erdos_renyi", "small_world"])
def test_weights_stay_zero_off_the_graph_through_training(graph):
    model = build_model(small(graph=graph, n=5, d=1, local_radius=1, total_edges=200))
    off = ~model.mask
    before = model.weight_hh.detach().clone()
    n_checks = []

    def check(m, during_backward):
        if during_backward:
            assert torch.all(m.weight_hh.grad[off] == 0)
        assert torch.all(m.weight_hh[off] == 0)
        assert torch.all(m.recurrent_weight()[off] == 0)
        n_checks.append(1)

    _train(model, 300, check)
    assert len(n_checks) == 600
    on = model.mask
    assert (model.weight_hh.detach()[on] - before[on]).abs().min() > 0  # every edge trained


def test_frozen_autapse_pool_keeps_identity():
    model = build_model(small(graph="frozen_autapse", n=4))
    names = [n for n, _ in model.named_parameters()]
    assert "weight_hh" not in names
    w_in = model.weight_ih.detach().clone()
    _train(model, 50, lambda m, during_backward: None)
    assert torch.equal(model.recurrent_weight(), torch.eye(16))
    assert not torch.equal(model.weight_ih.detach(), w_in)
    trainable = build_model(small(graph="autapse", n=4))
    assert torch.equal(
        trainable.weight_ih, build_model(small(graph="frozen_autapse", n=4)).weight_ih
    )


def _spectral_radius(w: torch.Tensor) -> float:
    m = sp.csr_matrix(w.double().numpy())
    val = sla.eigs(m, k=1, which="LM", return_eigenvectors=False, tol=1e-6)
    return float(abs(val[0]))


def test_init_spectral_radius_does_not_grow_with_n_or_d():
    radii = {}
    for n in (13, 20, 50):  # 13: the smallest side on which d = 6 does not wrap
        for d in (1, 2, 6):
            w = init_parameters(locality(n, d), 3, 3, seed=n + d)["weight_hh"]
            radii[(n * n, d)] = _spectral_radius(w)
    for n_units in (100, 400):
        radii[(n_units, "dense")] = _spectral_radius(
            init_parameters(dense(n_units), 3, 3, seed=1)["weight_hh"]
        )
    # the circular law gives g/sqrt(3) ~ 0.58 for dense rows; sparse rows (d = 1) reach ~1
    assert all(0.45 < r < 1.1 for r in radii.values()), radii
    # a plain N(0, 1/N) init masked to the graph would instead fall as sqrt(K/N):
    assert radii[(2500, 6)] > 0.5 and radii[(2500, 1)] > 0.5


@pytest.mark.parametrize(
    "graph",
    [
        {"graph": "erdos_renyi", "n": 10, "d": 1},
        {"graph": "erdos_renyi", "n": 12, "d": 3},
        {"graph": "small_world", "n": 10, "d": 2, "local_radius": 0},
        {"graph": "locality", "n": 10, "d": 1},
    ],
)
def test_random_graphs_and_their_weights_are_independent(graph):
    """A model seeds its graph and its weights with one number: the weights on the edges must
    still be symmetric U(±b) draws, not the values that chose the edges."""
    for seed in range(3):
        model = build_model(small(**graph, seed=seed))
        w = model.recurrent_weight().detach()
        on = (
            w[model.mask.bool()]
            / (1 / model.graph.in_degree.float().sqrt())[model.mask.bool().nonzero()[:, 0]]
        )
        assert abs((on > 0).float().mean().item() - 0.5) < 0.1  # positive half the time
        assert abs(on.mean().item()) < 0.15  # U(-1, 1) once divided by the bound
        assert 0.45 < _spectral_radius(w) < 1.1


def test_init_is_scaled_by_in_degree_and_seeded():
    g = locality(8, 2)
    p = init_parameters(g, 5, 3, seed=4)
    bound = 1 / np.sqrt(locality_degree(2))
    on = p["weight_hh"][g.adjacency]
    assert on.abs().max() <= bound and on.abs().max() > 0.9 * bound
    assert torch.all(p["weight_hh"][~g.adjacency] == 0)
    again = init_parameters(g, 5, 3, seed=4)
    other = init_parameters(g, 5, 3, seed=5)
    assert all(torch.equal(p[k], again[k]) for k in p)
    assert not torch.equal(p["weight_hh"], other["weight_hh"])


def test_noise_only_in_training():
    model = build_model(small(noise_std=0.5))
    u = torch.randn(5, 2, 4)
    a, _ = model(u)
    b, _ = model(u)
    assert not torch.allclose(a, b)
    model.eval()
    c, _ = model(u)
    d, _ = model(u)
    assert torch.equal(c, d)
    quiet = build_model(small())
    assert torch.equal(quiet(u)[0], quiet(u)[0])


def test_trainable_initial_state_gets_a_gradient():
    model = build_model(small(train_h0=True))
    assert "h0" in dict(model.named_parameters())
    logits, _ = model(torch.randn(3, 2, 4))
    logits.sum().backward()
    assert model.h0.grad.abs().sum() > 0


def test_build_graph_variants():
    er = build_graph(ModelConfig(graph="erdos_renyi", n=6, d=1, seed=2))
    assert torch.equal(er.in_degree, torch.full((36,), 5))
    assert not torch.equal(
        er.adjacency, build_graph(ModelConfig(graph="erdos_renyi", n=6, d=1)).adjacency
    )
    fixed = ModelConfig(graph="erdos_renyi", n=6, d=1, seed=2, graph_seed=0)
    assert torch.equal(build_graph(fixed).adjacency, build_graph(fixed.replace(seed=9)).adjacency)
    sw = build_graph(ModelConfig(graph="small_world", n=6, d=2, local_radius=0))
    assert sw.n_edges == 36 * 13
    assert build_graph(ModelConfig(graph="autapse", n=3)).is_diagonal
    assert build_graph(ModelConfig(graph="dense", n_units=7)).n_edges == 49
    adj = torch.rand(9, 9) < 0.5
    custom = build_model(ModelConfig(graph="custom", adjacency=adj, n_in=2, n_out=2))
    assert torch.equal(custom.mask, adj) and custom.n_units == 9


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"graph": "localty"}, "unknown graph kind 'localty'.*did you mean 'locality'"),
        ({"activation": "rleu"}, "unknown activation 'rleu'.*did you mean 'relu'"),
        ({"backend": "bandd"}, "unknown back-end 'bandd'.*did you mean 'banded'"),
        ({"d": -1}, "d must be a finite number >= 0"),
        ({"n": 0}, "lattice side n must be a whole number >= 1, got 0"),
        ({"n": None}, "give n"),
        ({"n": 3, "n_units": 10}, "n = 3 puts 9 units on the lattice, but n_units = 10"),
        ({"graph": "small_world", "local_radius": None}, "needs local_radius"),
        ({"graph": "custom"}, "needs an adjacency"),
        ({"n_in": 0}, "n_in must be a whole number >= 1"),
        ({"gain": 0.0}, "gain must be a finite number > 0"),
    ],
)
def test_bad_config_is_refused(kw, message):
    with pytest.raises(LmrnnError, match=message):
        small(**kw)


def test_unknown_config_key_is_refused():
    with pytest.raises(LmrnnError, match=r"unknown model config key 'activaton'.*'activation'"):
        ModelConfig.from_dict({"n": 4, "activaton": "tanh"})
    assert ModelConfig.from_dict({"n": 4, "activation": "tanh"}).activation == "tanh"


def test_bad_input_shape_is_refused():
    model = build_model(small())
    with pytest.raises(LmrnnError, match=r"shape \('T', 'B', 4\), got \(5, 2, 3\)"):
        model(torch.randn(5, 2, 3))
    with pytest.raises(LmrnnError, match="float tensor"):
        model(torch.zeros(5, 2, 4, dtype=torch.long))
    with pytest.raises(LmrnnError, match=r"h0 must have shape \(25,\) or \(2, 25\), got \(3, 25\)"):
        model(torch.randn(5, 2, 4), torch.zeros(3, 25))
