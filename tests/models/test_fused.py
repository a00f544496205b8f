"""The fused Triton back-end equals the dense reference: outputs, every gradient, training.

Without a GPU the kernels run in Triton's interpreter (conftest sets TRITON_INTERPRET=1), so
the same kernels are checked here and on CUDA.
"""

import pytest
import torch

from lmrnn.errors import LmrnnError
from lmrnn.graphs import erdos_renyi, locality, small_world
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig
from lmrnn.models.backends.dense import dense_recurrence
from lmrnn.models.backends.fused import (
    fused_sparse_recurrence,
    graph_format,
    neighbour_format,
    reverse_format,
)
from torus_helpers import torus_graph

RTOL = 1e-4


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def run_both(masks: torch.Tensor, activation: str, T: int, B: int, seed: int, bf16=False):
    gen = torch.Generator().manual_seed(seed)
    S, N, _ = masks.shape
    weight = (torch.randn(S, N, N, generator=gen) * 0.4 * masks).requires_grad_()
    drive = torch.randn(T, S, B, N, generator=gen, requires_grad=True)
    h0 = torch.rand(S, B, N, generator=gen, requires_grad=True)
    grad_out = torch.randn(T, S, B, N, generator=gen)
    out = []
    graph = graph_format(masks)
    for fn in (lambda: fused_sparse_recurrence(drive, h0, weight, graph, activation, bf16=bf16),
               lambda: dense_recurrence(drive, h0, weight * masks, activation)):  # fmt: skip
        h = fn()
        grads = torch.autograd.grad((h * grad_out).sum(), (drive, h0, weight))
        out.append((h.detach(), *grads))
    return out


CASES = [
    ("lm-n4-d1", [locality(4, 1)] * 2, "relu", 6, 3),
    ("lm-n5-d2-tanh", [locality(5, 2)], "tanh", 5, 2),
    ("autapse-d0", [locality(4, 0)] * 3, "relu", 7, 5),
    ("dense-d-large", [torus_graph(4, 3)], "tanh", 4, 1),
    ("er", [erdos_renyi(16, 4, 0), erdos_renyi(16, 4, 1)], "relu", 5, 4),
    ("K-per-seed", [locality(5, 1), locality(5, 2)], "relu", 5, 3),
    ("small-world", [small_world(5, 160, 1.0, 3)], "tanh", 5, 2),
    # more units than one tile of units and more rows than one tile of rows
    ("tiles", [locality(7, 1), locality(7, 2)], "relu", 3, 10),
]


@pytest.mark.parametrize(("graphs", "activation", "T", "B"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_outputs_and_gradients_equal_the_dense_reference(graphs, activation, T, B):
    masks = torch.stack([g.adjacency for g in graphs])
    fused, dense = run_both(masks, activation, T, B, seed=T * B)
    names = ("hidden", "grad drive", "grad h0", "grad W")
    for name, got, want in zip(names, fused, dense, strict=True):
        if name == "grad W":
            assert torch.all(got[~masks] == 0), "gradient off the graph"
        assert rel_err(got, want) < RTOL, name


def test_replayed_passes_equal_the_dense_reference_call_after_call(monkeypatch):
    """With LMRNN_FUSED_GRAPHS=1 each pass runs over static buffers made on first use (a CUDA
    graph on CUDA; replayed launches here): a second call with other inputs reuses them."""
    from lmrnn.models.backends import fused

    monkeypatch.setenv("LMRNN_FUSED_GRAPHS", "1")
    masks = torch.stack([locality(7, 1).adjacency, locality(7, 2).adjacency])
    for seed in (1, 2):
        got, want = run_both(masks, "tanh", 3, 10, seed=seed)
        for a, b in zip(got, want, strict=True):
            assert rel_err(a, b) < RTOL
    kinds = [key[0] for key in fused._REPLAYS]
    assert kinds.count("forward") == 1 and kinds.count("backward") == 1


BF16_CASES = [[locality(7, 2)] * 2, [torus_graph(4, 3)]]  # d = 3 wraps the 4x4 torus: dense


@pytest.mark.parametrize("graphs", BF16_CASES, ids=["lm", "dense"])
def test_bf16_weights_cost_little_accuracy(graphs):
    """fused-bf16 reads the weights rounded to bfloat16 (8 bits of mantissa): outputs and every
    gradient within a few 1e-3 of the float32 reference, and not equal to it."""
    masks = torch.stack([g.adjacency for g in graphs])
    got, want = run_both(masks, "tanh", 4, 3, seed=3, bf16=True)
    for name, a, b in zip(("hidden", "grad drive", "grad h0", "grad W"), got, want, strict=True):
        assert rel_err(a, b) < 2e-2, name
    assert rel_err(got[0], want[0]) > 1e-5  # the rounding is there
    assert torch.all(got[3][~masks] == 0)
    assert got[3].dtype == torch.float32


def test_neighbour_and_reverse_formats_describe_the_graph():
    masks = torch.stack([erdos_renyi(25, 3, 0).adjacency, small_world(5, 160, 1.0, 1).adjacency])
    idx, valid = neighbour_format(masks)
    rebuilt = torch.zeros_like(masks)
    s, i, k = valid.nonzero(as_tuple=True)
    rebuilt[s, i, idx[s, i, k]] = True
    assert torch.equal(rebuilt, masks)
    rsrc, rpos = reverse_format(idx, valid)
    K = idx.shape[-1]
    for s in range(2):
        for j in range(25):
            readers = {(int(p) // K) for p in rpos[s, j] if p >= 0}
            assert readers == set(masks[s, :, j].nonzero().flatten().tolist())
            for src, p in zip(rsrc[s, j].tolist(), rpos[s, j].tolist(), strict=True):
                if p >= 0:
                    assert src == p // K and idx[s, src, p % K] == j


def test_identical_graphs_share_one_neighbour_format():
    """Seeds of a locality ensemble have one graph: the kernels read one index list, not S."""
    same = torch.stack([locality(5, 2).adjacency] * 3)
    idx, valid, rsrc, rpos, _ = graph_format(same)
    assert idx.shape[0] == valid.shape[0] == rsrc.shape[0] == rpos.shape[0] == 1
    assert torch.equal(idx, neighbour_format(same[:1])[0])
    differ = torch.stack([locality(5, 2).adjacency, erdos_renyi(25, 13, 0).adjacency])
    assert graph_format(differ)[0].shape[0] == 2


def test_ensemble_and_single_network_run_the_fused_back_end():
    cfg = ModelConfig(graph="erdos_renyi", n_units=16, in_degree=4, n_in=5, n_out=3)
    fused = EnsembleRNN(cfg.replace(backend="fused"), [0, 1])
    dense = EnsembleRNN(cfg.replace(backend="dense"), [0, 1])
    assert fused.backend_for("cpu") == "fused"
    u = torch.randn(6, 2, 5)
    a, b = fused(u)[0], dense(u)[0]
    assert rel_err(a.detach(), b.detach()) < RTOL
    one = MaskedRNN(ModelConfig(n=4, d=1, n_in=5, n_out=3, backend="fused"))
    ref = MaskedRNN(ModelConfig(n=4, d=1, n_in=5, n_out=3, backend="dense"))
    assert rel_err(one(u)[0].detach(), ref(u)[0].detach()) < RTOL
    half = EnsembleRNN(cfg.replace(backend="fused-bf16"), [0, 1])
    assert half.backend_for("cpu") == "fused-bf16"
    assert 0 < rel_err(half(u)[0].detach(), b.detach()) < 2e-2


@pytest.mark.slow
def test_training_matches_the_dense_back_end(tmp_path):
    """A few hundred steps on go and anti: the same loss curve and weights as dense."""
    from lmrnn.train import from_dict, train

    common = {"collection": ["go", "anti"], "n": 4, "d": 1.0, "batch_size": 4, "seq_len": 10,
              "steps": 200, "eval_every": 200, "eval_trials": 8, "checkpoint_every": 200,
              "seeds": [0], "device": "cpu", "lr": 3e-3}  # fmt: skip
    runs = {}
    for backend in ("fused", "dense"):
        config = from_dict({**common, "backend": backend, "out": str(tmp_path / backend)})
        runs[backend] = train(config, progress=False)
    fused_w = runs["fused"].model.weight_hh.detach()
    dense_w = runs["dense"].model.weight_hh.detach()
    assert rel_err(fused_w, dense_w) < 1e-3
    loss = {b: (tmp_path / b / "metrics.csv").read_text().splitlines() for b in runs}
    lf = [float(r.split(",")[-1]) for r in loss["fused"] if ",loss," in r]
    ld = [float(r.split(",")[-1]) for r in loss["dense"] if ",loss," in r]
    assert lf == pytest.approx(ld, rel=1e-3)


@pytest.mark.parametrize("backend", ["fused", "fused-bf16"])
def test_fused_refuses_softplus_before_any_work(backend):
    with pytest.raises(LmrnnError, match=f"'{backend}' supports activations relu and tanh"):
        MaskedRNN(ModelConfig(n=4, d=1, activation="softplus", backend=backend))


@pytest.mark.cuda
@pytest.mark.parametrize("graphs", ["0", "1"])
def test_fused_on_cuda_equals_dense(graphs, monkeypatch):
    monkeypatch.setenv("LMRNN_FUSED_GRAPHS", graphs)
    masks = torch.stack([locality(10, 2).adjacency, erdos_renyi(100, 13, 0).adjacency]).cuda()
    gen = torch.Generator(device="cuda").manual_seed(0)
    weight = (torch.randn(2, 100, 100, device="cuda", generator=gen) * 0.3 * masks).requires_grad_()
    drive = torch.randn(20, 2, 4, 100, device="cuda", generator=gen, requires_grad=True)
    h0 = torch.rand(2, 4, 100, device="cuda", generator=gen, requires_grad=True)
    g = torch.randn(20, 2, 4, 100, device="cuda", generator=gen)
    outs = []
    for fn in (lambda: fused_sparse_recurrence(drive, h0, weight, graph_format(masks), "relu"),
               lambda: dense_recurrence(drive, h0, weight * masks, "relu")):  # fmt: skip
        h = fn()
        outs.append((h.detach(), *torch.autograd.grad((h * g).sum(), (drive, h0, weight))))
    for got, want in zip(*outs, strict=True):
        assert rel_err(got, want) < RTOL
