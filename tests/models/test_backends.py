"""Every recurrence back-end gives the dense reference's numbers; ensembles equal lone seeds."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lmrnn.errors import LmrnnError
from lmrnn.graphs import autapse, dense, erdos_renyi, locality
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig, clip_grad_norm_per_seed_
from lmrnn.models.backends import GraphShape, choose_backend
from torus_helpers import lattice_config

RTOL = 1e-5
GEOMETRIES = [(4, 0), (5, 1), (6, 2), (7, 1.5), (7, 3), (6, 3), (5, 4), (4, 10)]


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp(min=1e-30))


def forward_and_grads(model, u, h0, targets):
    """Outputs and the gradients of every parameter and of the initial state ``h0``.

    ``h0`` (N,) is written into the model's trainable h0 when it has one (the gradient then
    reaches the parameter); (B, N) is passed as the forward's h0 argument."""
    model.zero_grad()
    h0 = h0.clone().requires_grad_()
    if h0.dim() == 1:
        with torch.no_grad():
            model.h0.copy_(h0)
        logits, hidden = model(u)
    else:
        logits, hidden = model(u, h0)
    n_out = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, n_out), targets.reshape(-1)) + hidden.square().mean()
    loss.backward()
    out = {"logits": logits.detach(), "hidden": hidden.detach()}
    if h0.grad is not None:
        out["grad h0 argument"] = h0.grad
    out.update({f"grad {k}": p.grad.clone() for k, p in model.named_parameters()})
    return out


def case_inputs(n_units, seed=0, steps=9, batch=3, n_in=4, n_out=3):
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(steps, batch, n_in, generator=gen)
    h0 = torch.rand(n_units, generator=gen)
    targets = torch.randint(0, n_out, (steps, batch), generator=gen)
    return u, h0, targets


def _cases():
    for n, d in GEOMETRIES:
        for activation in ("relu", "tanh", "softplus"):
            for backend in ("batched", "banded", "cudnn"):
                if backend == "cudnn" and activation == "softplus":
                    continue
                yield pytest.param(
                    n, d, activation, backend, id=f"{backend}-{activation}-n{n}-d{d}"
                )


@pytest.mark.parametrize(("n", "d", "activation", "backend"), list(_cases()))
def test_backend_equals_dense_reference(n, d, activation, backend):
    # (6, 3), (5, 4) and (4, 10) wrap the torus (the band covers every row): a custom graph
    cfg = lattice_config(
        n, d, activation=activation, n_in=4, n_out=3, seed=n, train_h0=True, backend="dense"
    )
    ref_model, model = MaskedRNN(cfg), MaskedRNN(cfg.replace(backend=backend))
    assert model.backend_for("cpu") == backend
    u, h0, targets = case_inputs(n * n, seed=n)
    ref = forward_and_grads(ref_model, u, h0, targets)
    got = forward_and_grads(model, u, h0, targets)
    assert ref.keys() == got.keys() and len(ref) == 8  # 2 outputs, 6 parameter gradients
    for key in ref:
        assert rel_err(got[key], ref[key]) < RTOL, key


@pytest.mark.parametrize("backend", ["batched", "banded", "cudnn"])
def test_backends_agree_on_an_initial_state_argument(backend):
    cfg = ModelConfig(n=6, d=2, activation="tanh", n_in=4, n_out=3, backend="dense")
    u, _, targets = case_inputs(36)
    h0 = torch.randn(3, 36)
    ref = forward_and_grads(MaskedRNN(cfg), u, h0, targets)
    got = forward_and_grads(MaskedRNN(cfg.replace(backend=backend)), u, h0, targets)
    assert "grad h0 argument" in ref
    for key in ref:
        assert rel_err(got[key], ref[key]) < RTOL, key


@pytest.mark.parametrize("backend", ["batched", "banded", "cudnn"])
def test_backends_agree_with_recurrent_noise(backend):
    cfg = ModelConfig(n=5, d=1, n_in=4, n_out=3, noise_std=0.3, backend="dense")
    u, h0, targets = case_inputs(25)
    results = []
    for name in ("dense", backend):
        torch.manual_seed(5)  # same noise draw for both
        results.append(forward_and_grads(MaskedRNN(cfg.replace(backend=name)), u, h0, targets))
    for key in results[0]:
        assert rel_err(results[1][key], results[0][key]) < RTOL, key


@pytest.mark.parametrize("size", [{"n": 4}, {"n_units": 30}], ids=["lattice", "no-lattice"])
@pytest.mark.parametrize("graph", ["frozen_autapse", "autapse"])
def test_autapse_pools_on_every_backend(graph, size):
    cfg = ModelConfig(graph=graph, **size, n_in=4, n_out=3, backend="dense")
    u, h0, targets = case_inputs(cfg.units)
    ref = forward_and_grads(MaskedRNN(cfg), u, h0, targets)
    for backend in ("batched", "banded", "cudnn"):
        got = forward_and_grads(MaskedRNN(cfg.replace(backend=backend)), u, h0, targets)
        for key in ref:
            assert rel_err(got[key], ref[key]) < RTOL, (backend, key)


# --- ensembles -------------------------------------------------------------------------


def seed_losses(logits, targets):
    """(S,) cross-entropy of each seed; logits (S, T, B, O), targets (T, B)."""
    s, n_out = logits.shape[0], logits.shape[-1]
    flat = logits.reshape(s, -1, n_out)
    return torch.stack([F.cross_entropy(flat[i], targets.reshape(-1)) for i in range(s)])


@pytest.mark.parametrize(
    ("graph", "backend"),
    [
        ("erdos_renyi", "dense"),
        ("erdos_renyi", "batched"),
        ("locality", "banded"),
        ("autapse", "banded"),
        ("erdos_renyi", "banded"),
        ("small_world", "batched"),
    ],
)
@pytest.mark.parametrize("shared_input", [True, False])
def test_ensemble_equals_each_seed_alone(graph, backend, shared_input):
    cfg = ModelConfig(
        graph=graph, n=5, d=1, local_radius=0, n_in=4, n_out=3, backend=backend, train_h0=True
    )
    seeds = [3, 8, 1]
    ens = EnsembleRNN(cfg, seeds)
    u, _, targets = case_inputs(25)
    u_seed = torch.stack([u * (i + 1) for i in range(3)])
    logits, hidden = ens(u if shared_input else u_seed)
    assert logits.shape == (3, 9, 3, 3) and hidden.shape == (3, 9, 3, 25)
    seed_losses(logits, targets).sum().backward()
    for i, s in enumerate(seeds):
        alone = MaskedRNN(cfg.replace(seed=s, backend="dense"))
        assert torch.equal(alone.mask, ens.mask[i])
        lo, hi = alone(u if shared_input else u_seed[i])
        F.cross_entropy(lo.reshape(-1, 3), targets.reshape(-1)).backward()
        assert rel_err(logits[i].detach(), lo.detach()) < RTOL
        assert rel_err(hidden[i].detach(), hi.detach()) < RTOL
        for name, p in alone.named_parameters():
            assert rel_err(getattr(ens, name).grad[i], p.grad) < RTOL, (s, name)


@pytest.mark.parametrize("backend", ["dense", "sparse"])
@pytest.mark.parametrize("shared_input", [True, False])
def test_mostly_zero_inputs_skip_their_zeros_and_change_nothing(backend, shared_input):
    """Inputs that are mostly zero (one-hot rules, a few stimulus channels) run the input
    product over their non-zeros only (a compiled loop on the CPU): the outputs and every
    gradient are those of the full product, and W_in's columns of channels that are zero in
    the whole batch get an exactly zero gradient."""
    from lmrnn.models.backends import sparse

    calls, real = [], sparse._SparseInput.apply
    monkey = pytest.MonkeyPatch()
    monkey.setattr(sparse._SparseInput, "apply", lambda *a: calls.append(1) or real(*a))
    cfg = ModelConfig(graph="locality", n=5, d=1, n_in=16, n_out=3, backend=backend)
    seeds = [3, 8]
    ens = EnsembleRNN(cfg, seeds)
    gen = torch.Generator().manual_seed(5)
    u = torch.zeros(2, 9, 3, 16)
    u[..., :3] = torch.randn(2, 9, 3, 3, generator=gen)  # stimulus channels
    u[0, :, 0, 7] = u[1, :, 1, 11] = u[1, :, 2, 7] = 1.0  # the rules of each row
    u = u[0] if shared_input else u
    targets = torch.randint(0, 3, (9, 3), generator=gen)
    logits, _ = ens(u)
    seed_losses(logits, targets).sum().backward()
    monkey.undo()
    assert calls == ([1] if sparse.loops_in_use() == "cpp" else [])  # the zeros were skipped
    used = (u != 0).reshape(-1, 16).any(0)
    assert bool((ens.weight_ih.grad[:, :, ~used] == 0).all())
    for i, s in enumerate(seeds):
        alone = MaskedRNN(cfg.replace(seed=s, backend="dense"))
        lo, _ = alone(u if shared_input else u[i])
        F.cross_entropy(lo.reshape(-1, 3), targets.reshape(-1)).backward()
        assert rel_err(logits[i].detach(), lo.detach()) < RTOL
        for name, p in alone.named_parameters():
            assert rel_err(getattr(ens, name).grad[i], p.grad) < RTOL, (s, name)


def test_ensemble_random_graphs_differ_per_seed():
    ens = EnsembleRNN(ModelConfig(graph="erdos_renyi", n=6, d=1, n_in=2, n_out=2), [0, 1, 2])
    masks = ens.mask
    assert not torch.equal(masks[0], masks[1]) and not torch.equal(masks[1], masks[2])
    for i, s in enumerate(ens.seeds):
        assert torch.equal(masks[i], erdos_renyi(36, 5, s).adjacency)


def test_ensemble_training_matches_training_alone():
    """Same seed -> same weights: 3 seeds trained together with Adam and per-seed clipping
    end where seed 7 ends when trained alone with the global clip."""
    cfg = ModelConfig(graph="erdos_renyi", n=4, d=1, n_in=4, n_out=3, backend="batched")
    seeds, max_norm = [3, 7, 11], 0.1
    ens = EnsembleRNN(cfg, seeds)
    alone = MaskedRNN(cfg.replace(seed=7, backend="dense"))
    opt_e = torch.optim.Adam(ens.parameters(), lr=1e-2)
    opt_a = torch.optim.Adam(alone.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    clipped = 0
    for _ in range(25):
        u = torch.randn(6, 4, 4, generator=gen)
        targets = torch.randint(0, 3, (6, 4), generator=gen)
        opt_e.zero_grad()
        seed_losses(ens(u)[0], targets).sum().backward()
        norms = clip_grad_norm_per_seed_(ens.parameters(), max_norm)
        opt_e.step()
        ens.apply_mask_()
        opt_a.zero_grad()
        logits, _ = alone(u)
        F.cross_entropy(logits.reshape(-1, 3), targets.reshape(-1)).backward()
        norm = torch.nn.utils.clip_grad_norm_(alone.parameters(), max_norm)
        opt_a.step()
        alone.apply_mask_()
        assert norms[1] == pytest.approx(float(norm), rel=1e-4)
        clipped += int(norm > max_norm)
    assert clipped > 5  # clipping was active
    lone_state = ens.seed_state_dict(1)
    for name, value in alone.state_dict().items():
        torch.testing.assert_close(lone_state[name], value, rtol=1e-4, atol=1e-6)


def test_clip_per_seed_equals_torch_clip_on_each_seed():
    gen = torch.Generator().manual_seed(1)
    params = [torch.zeros(3, 4, 5, requires_grad=True), torch.zeros(3, 7, requires_grad=True)]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * torch.tensor([0.01, 1.0, 10.0]).view(
            3, *[1] * (p.dim() - 1)
        )
    singles = [[torch.nn.Parameter(p[i].detach().clone()) for p in params] for i in range(3)]
    for i, ps in enumerate(singles):
        for p, big in zip(ps, params, strict=True):
            p.grad = big.grad[i].clone()
    norms = clip_grad_norm_per_seed_(params, 1.0)
    for i, ps in enumerate(singles):
        norm = torch.nn.utils.clip_grad_norm_(ps, 1.0)
        assert norms[i] == pytest.approx(float(norm), rel=1e-6)
        for p, big in zip(ps, params, strict=True):
            torch.testing.assert_close(big.grad[i], p.grad)


def test_extract_seed_is_a_standalone_copy():
    cfg = ModelConfig(graph="erdos_renyi", n=4, d=1, n_in=4, n_out=3)
    ens = EnsembleRNN(cfg, [5, 6])
    with torch.no_grad():
        ens.weight_ih.add_(1.0)  # differ from a fresh init
    model = ens.extract(1)
    assert set(model.state_dict()) == set(MaskedRNN(cfg).state_dict())
    u = torch.randn(4, 2, 4)
    torch.testing.assert_close(model(u)[0], ens(u)[0][1])
    with torch.no_grad():
        model.weight_ih.zero_()
    assert ens.weight_ih.abs().min() > 0
    with pytest.raises(LmrnnError, match=r"seed index must be in 0\.\.1, got 2"):
        ens.seed_state_dict(2)
    with pytest.raises(LmrnnError, match=r"inputs must have shape \(2, 'T', 'B', 4\)"):
        ens(torch.randn(3, 4, 2, 4))
    with pytest.raises(LmrnnError, match=r"h0 must have shape \(2, 16\) or \(2, 2, 16\)"):
        ens(u, torch.zeros(16))


# --- choice of back-end ----------------------------------------------------------------


def shape_of(*graphs):
    return GraphShape.of(list(graphs))


def test_auto_choice():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    lm = shape_of(locality(50, 2))
    assert choose_backend("auto", lm, cpu, 1, "relu") == "sparse"  # see test_backend_sparse
    assert choose_backend("auto", shape_of(locality(50, 12)), cpu, 1, "relu") == "sparse"
    assert choose_backend("auto", shape_of(locality(50, 20)), cpu, 1, "relu") == "batched"
    assert choose_backend("auto", shape_of(locality(20, 2)), cpu, 1, "relu") == "sparse"
    assert choose_backend("auto", shape_of(autapse(30)), cpu, 1, "relu") == "sparse"
    assert choose_backend("auto", shape_of(dense(30)), cpu, 1, "relu") == "dense"
    assert choose_backend("auto", shape_of(dense(100)), cpu, 5, "relu") == "dense"
    assert choose_backend("auto", shape_of(dense(196)), cpu, 5, "relu") == "batched"
    assert choose_backend("auto", shape_of(dense(400)), cpu, 5, "relu") == "batched"
    assert choose_backend("auto", shape_of(dense(900)), cpu, 1, "relu") == "batched"
    assert choose_backend("auto", lm, cuda, 1, "relu") == "cudnn"
    assert choose_backend("auto", lm, cuda, 1, "softplus") == "banded"
    assert choose_backend("auto", lm, cuda, 15, "relu") == "banded"
    assert choose_backend("auto", shape_of(locality(50, 13)), cuda, 15, "relu") == "batched"
    assert choose_backend("auto", shape_of(dense(900)), cuda, 15, "relu") == "batched"
    assert choose_backend("dense", lm, cuda, 15, "relu") == "dense"
    ers = shape_of(erdos_renyi(900, 13, 0), erdos_renyi(900, 13, 1))
    assert ers.bandwidth == 15 and choose_backend("auto", ers, cpu, 2, "relu") == "sparse"
    assert choose_backend("auto", ers, cuda, 2, "relu") == "batched"


@pytest.mark.parametrize(
    ("name", "shape", "seeds", "activation", "message"),
    [
        ("cudnn", locality(5, 1), 3, "relu", "runs one network, not an ensemble of 3"),
        ("cudnn", locality(5, 1), 1, "softplus", "relu and tanh, not 'softplus'"),
        ("banded", dense(7), 1, "relu", "needs units on an n×n lattice"),
        ("bandd", dense(7), 1, "relu", "did you mean 'banded'"),
    ],
)
def test_impossible_backend_is_refused(name, shape, seeds, activation, message):
    with pytest.raises(LmrnnError, match=message):
        choose_backend(name, shape_of(shape), torch.device("cpu"), seeds, activation)


def test_model_refuses_impossible_backend_before_work():
    with pytest.raises(LmrnnError, match="ensemble of 2"):
        EnsembleRNN(ModelConfig(n=4, d=1, backend="cudnn"), [0, 1])
    with pytest.raises(LmrnnError, match="relu and tanh"):
        MaskedRNN(ModelConfig(n=4, d=1, activation="softplus", backend="cudnn"))


# --- CUDA ------------------------------------------------------------------------------


@pytest.mark.cuda
@pytest.mark.parametrize("backend", ["cudnn", "batched", "banded"])
def test_cuda_backend_equals_dense(backend):
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        cfg = ModelConfig(n=8, d=2, n_in=4, n_out=3, train_h0=True, backend="dense")
        u, h0, targets = (t.cuda() for t in case_inputs(64, steps=20, batch=5))
        ref = forward_and_grads(MaskedRNN(cfg).cuda(), u, h0, targets)
        model = MaskedRNN(cfg.replace(backend=backend)).cuda()
        assert model.backend_for(u.device) == backend
        got = forward_and_grads(model, u, h0, targets)
        for key in ref:
            assert rel_err(got[key], ref[key]) < RTOL, key
        assert MaskedRNN(cfg.replace(backend="auto")).backend_for(u.device) == "cudnn"
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def test_single_seed_ensemble_runs_the_fused_kernel_like_the_dense_reference():
    """An ensemble of one seed (what training uses) on the cudnn back-end equals dense."""
    cfg = ModelConfig(n=5, d=1, n_in=4, n_out=3, train_h0=True)
    ref = EnsembleRNN(cfg.replace(backend="dense"), [7])
    fused = EnsembleRNN(cfg.replace(backend="cudnn"), [7])
    assert fused.backend_for("cpu") == "cudnn"
    u, _, targets = case_inputs(25, seed=3)
    outs = []
    for model in (ref, fused):
        logits, hidden = model(u)
        loss = torch.nn.functional.cross_entropy(logits[0].reshape(-1, 3), targets.reshape(-1))
        loss.backward()
        outs.append(
            [logits.detach(), hidden.detach()] + [p.grad.clone() for p in model.parameters()]
        )
    for got, want in zip(outs[1], outs[0], strict=True):
        assert rel_err(got, want) < RTOL
