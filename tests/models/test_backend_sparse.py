"""The ``sparse`` back-end (compiled loops over fixed in-degree graphs: C++, or numba's) gives
the dense reference's numbers: outputs and every gradient, the models' and a short training
run's, with either loops, on any number of threads, and through its pure-torch fallback."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from lmrnn.errors import LmrnnError
from lmrnn.graphs import autapse, erdos_renyi, from_adjacency, locality, locality_degree
from lmrnn.models import EnsembleRNN, MaskedRNN, ModelConfig
from lmrnn.models.backends import GraphShape, choose_backend, run_recurrence, sparse
from lmrnn.models.backends.dense import dense_recurrence
from lmrnn.tasks import render_cpu
from lmrnn.train import from_dict, train

RTOL = 1e-5


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp(min=1e-30))


def masks_of(kind: str, n: int, d: int, n_seeds: int) -> torch.Tensor:
    """(S, N, N) bool: one locality mask (or autapse pool) for every seed, or an Erdős–Rényi
    graph of the locality mask's in-degree per seed."""
    if kind == "erdos_renyi":
        k = locality_degree(d, n)
        return torch.stack([erdos_renyi(n * n, k, seed).adjacency for seed in range(n_seeds)])
    graph = autapse(n * n) if d == 0 else locality(n, d)
    return graph.adjacency.expand(n_seeds, -1, -1).contiguous()


def compiler_or_skip() -> str:
    """The C++ compiler the loops are built with; the test is skipped without one, or with the
    C++ loops switched off."""
    compiler = shutil.which(os.environ.get("CXX", "g++"))
    if os.environ.get("LMRNN_NO_CPP") or compiler is None:
        pytest.skip("no C++ compiler here, or the C++ loops are switched off")
    return compiler


def recurrence_and_grads(backend, masks, activation, steps, batch, seed, given_mask=None):
    """Hidden states of ``run_recurrence`` and the gradients of drive, h0 and the (masked)
    weight under a random linear loss (on the graph, and off it, separately); ``given_mask``:
    the mask passed (default ``masks``)."""
    n_seeds, n_units = masks.shape[0], masks.shape[1]
    gen = torch.Generator().manual_seed(seed)
    drive = torch.randn(steps, n_seeds, batch, n_units, generator=gen).requires_grad_()
    h0 = torch.randn(n_seeds, batch, n_units, generator=gen).requires_grad_()
    degree = masks.sum(-1, keepdim=True).clamp(min=1)
    weight = torch.randn(n_seeds, n_units, n_units, generator=gen) * 1.2 / degree.sqrt()
    weight = (weight * masks).requires_grad_()
    probe = torch.randn(steps, n_seeds, batch, n_units, generator=gen)
    if backend == "dense":
        states = dense_recurrence(drive, h0, weight, activation)
    else:
        given = masks if given_mask is None else given_mask
        states = run_recurrence(backend, drive, h0, weight, activation, None, given)
    (states * probe).sum().backward()
    grads = {"drive": drive.grad, "h0": h0.grad, "weight": weight.grad * masks}
    return {"states": states.detach(), **grads, "off the graph": weight.grad * ~masks}


@pytest.fixture(params=["cpp", "numba"])
def loops(request, monkeypatch):
    """Run a test with the C++ loops, then with numba's."""
    monkeypatch.setattr(sparse, "LOOPS", request.param)
    if sparse.loops_in_use() != request.param:
        pytest.skip(f"the {request.param} loops cannot run here")
    return request.param


def _random_cases(count: int = 30):
    rng = random.Random(2024)
    kinds = ["locality", "erdos_renyi", "autapse"]
    for i in range(count):
        n = rng.randint(4, 12)
        kind = kinds[i % 3]
        d = 0 if kind == "autapse" else rng.choice([d for d in (1, 2, 3) if 2 * d + 1 <= n])
        case = (kind, n, d, rng.randint(1, 3), rng.randint(1, 5), rng.randint(1, 20))
        activation = ("relu", "tanh")[i % 2] if i < count - 3 else "softplus"
        yield pytest.param(*case, activation, 100 + i, id=f"{kind}-n{n}-d{d}-S{case[3]}-"
                           f"B{case[4]}-T{case[5]}-{activation}")  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "n", "d", "n_seeds", "batch", "steps", "activation", "seed"), list(_random_cases())
)
def test_sparse_equals_dense_on_random_cases(kind, n, d, n_seeds, batch, steps, activation, seed,
                                             loops):  # fmt: skip
    masks = masks_of(kind, n, d, n_seeds)
    if kind == "erdos_renyi" and n_seeds > 1:
        assert not torch.equal(masks[0], masks[1])  # one graph per seed
    ref = recurrence_and_grads("dense", masks, activation, steps, batch, seed)
    got = recurrence_and_grads("sparse", masks, activation, steps, batch, seed)
    assert got["states"].shape == (steps, n_seeds, batch, n * n)
    for key in ("states", "drive", "h0", "weight"):
        assert rel_err(got[key], ref[key]) < RTOL, key
    assert not got["off the graph"].any()  # exact zeros


def test_a_lone_network_with_a_two_dimensional_mask(loops):
    """MaskedRNN passes its (N, N) mask; the states of a batch of one row."""
    mask = erdos_renyi(49, 5, 3).adjacency
    ref = recurrence_and_grads("dense", mask[None], "tanh", 12, 1, 0)
    got = recurrence_and_grads("sparse", mask[None], "tanh", 12, 1, 0, given_mask=mask)
    for key in ("states", "drive", "h0", "weight"):
        assert rel_err(got[key], ref[key]) < RTOL, key


# --- through the models ----------------------------------------------------------------------


def forward_and_grads(model, u, targets):
    """Logits, hidden states and every parameter's gradient under cross-entropy + activity."""
    model.zero_grad()
    logits, hidden = model(u)
    n_out = logits.shape[-1]
    loss = F_cross_entropy(logits.reshape(-1, n_out), targets.reshape(-1)) + hidden.square().mean()
    loss.backward()
    out = {"logits": logits.detach(), "hidden": hidden.detach()}
    out.update({f"grad {k}": p.grad.clone() for k, p in model.named_parameters()})
    return out


def F_cross_entropy(logits, targets):
    return torch.nn.functional.cross_entropy(logits, targets)


def model_inputs(seed=0, steps=9, batch=3, n_in=4, n_out=3):
    gen = torch.Generator().manual_seed(seed)
    u = torch.randn(steps, batch, n_in, generator=gen)
    return u, torch.randint(0, n_out, (steps, batch), generator=gen)


@pytest.mark.parametrize(
    ("graph", "n", "d", "activation"),
    [("locality", 6, 2, "relu"), ("locality", 7, 3, "tanh"), ("autapse", 5, 0, "relu"),
     ("frozen_autapse", 4, 0, "tanh"), ("erdos_renyi", 6, 1, "softplus")],
)  # fmt: skip
def test_masked_rnn_on_sparse_equals_dense(graph, n, d, activation):
    size = {"n": n} if graph == "locality" else {"n_units": n * n}
    cfg = ModelConfig(graph=graph, d=d, activation=activation, n_in=4, n_out=3, seed=n,
                      train_h0=True, backend="dense", **size)  # fmt: skip
    ref_model, model = MaskedRNN(cfg), MaskedRNN(cfg.replace(backend="sparse"))
    assert model.backend_for("cpu") == "sparse"
    with torch.no_grad():
        ref_model.h0.normal_()
        model.h0.copy_(ref_model.h0)
    u, targets = model_inputs(seed=n)
    ref, got = forward_and_grads(ref_model, u, targets), forward_and_grads(model, u, targets)
    assert ref.keys() == got.keys()
    for key in ref:
        assert rel_err(got[key], ref[key]) < RTOL, key


@pytest.mark.parametrize("graph", ["erdos_renyi", "locality"])
def test_ensemble_on_sparse_equals_dense(graph, loops):
    cfg = ModelConfig(graph=graph, n=6, d=1, n_in=4, n_out=3, train_h0=True, backend="dense")
    seeds = [3, 8, 1]
    ref_model, model = EnsembleRNN(cfg, seeds), EnsembleRNN(cfg.replace(backend="sparse"), seeds)
    u, targets = model_inputs(seed=1, batch=5)
    outs = []
    for m in (ref_model, model):
        logits, hidden = m(u)
        flat = logits.reshape(3, -1, 3)
        sum(F_cross_entropy(x, targets.reshape(-1)) for x in flat).backward()
        outs.append([logits.detach(), hidden.detach()] + [p.grad.clone() for p in m.parameters()])
    for got, want in zip(outs[1], outs[0], strict=True):
        assert rel_err(got, want) < RTOL


TINY = {
    "collection": ["go", "dm1"], "n": 5, "d": 1.0, "batch_size": 4, "seq_len": 30,
    "steps": 30, "eval_every": 30, "eval_trials": 8, "checkpoint_every": 30, "seeds": [0, 1],
    "device": "cpu",
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("graph", ["locality", "erdos_renyi"])
def test_training_on_sparse_ends_at_the_dense_weights(tmp_path, graph):
    weights = {}
    for backend in ("dense", "sparse"):
        cfg = from_dict({**TINY, "graph": graph, "backend": backend,
                         "out": str(tmp_path / backend)})  # fmt: skip
        run = train(cfg, progress=False).run_dir
        assert f"backend: {backend}" in (run / "config.yaml").read_text()
        weights[backend] = [load_file(str(run / f"seed_{s}" / "weights.safetensors"))
                            for s in (0, 1)]  # fmt: skip
    start = EnsembleRNN(cfg.model_config(), [0, 1]).seed_state_dict(0)["weight_hh"]
    assert (weights["dense"][0]["weight_hh"] - start).abs().max() > 1e-2  # it trained
    for ref, got in zip(weights["dense"], weights["sparse"], strict=True):
        assert ref.keys() == got.keys()
        for name in ref:  # the weights move by some 3e-2, the back-ends differ by some 3e-8
            torch.testing.assert_close(got[name], ref[name], rtol=1e-5, atol=1e-6, msg=name)


# --- threads and the fallback ----------------------------------------------------------------


@pytest.fixture
def threads():
    """Set torch's thread count (which the back-end follows) for one test."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.parametrize("split", ["rows", "steps", None])
def test_the_same_numbers_on_any_number_of_threads(monkeypatch, threads, split, loops):
    masks = masks_of("erdos_renyi", 8, 2, 3)
    threads(1)
    alone = recurrence_and_grads("sparse", masks, "relu", 15, 6, 4)
    threads(2)
    monkeypatch.setattr(sparse, "SPLIT", split)
    ran, run_threaded = [], render_cpu.run_threaded

    def counted(kernel, args, n):
        ran.append(run_threaded(kernel, args, n))
        return ran[-1]

    monkeypatch.setattr(render_cpu, "run_threaded", counted)
    shared = recurrence_and_grads("sparse", masks, "relu", 15, 6, 4)
    if loops == "numba":
        assert ran == [True] * 3  # forward, backward, weight gradient: each on 2 threads
    for key in alone:
        assert torch.equal(shared[key], alone[key]), key


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus"])
@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_the_cpp_and_numba_loops_agree(monkeypatch, activation, alpha):
    """Both compiled loops, on the same random cases, leaky units too (the C++ lanes sum the
    weight gradient in another order: float32 rounding apart)."""
    for kind, n, d, n_seeds, batch in (("locality", 7, 2, 3, 6), ("erdos_renyi", 6, 1, 2, 3)):
        masks = masks_of(kind, n, d, n_seeds)
        got = {}
        for name in ("cpp", "numba"):
            monkeypatch.setattr(sparse, "LOOPS", name)
            if sparse.loops_in_use() != name:
                pytest.skip(f"the {name} loops cannot run here")
            gen = torch.Generator().manual_seed(n)
            drive = torch.randn(11, n_seeds, batch, n * n, generator=gen).requires_grad_()
            h0 = torch.randn(n_seeds, batch, n * n, generator=gen).requires_grad_()
            weight = torch.randn(n_seeds, n * n, n * n, generator=gen) * 0.4 * masks
            weight.requires_grad_()
            states = run_recurrence("sparse", drive, h0, weight, activation, None, masks, alpha)
            (states * torch.randn(states.shape, generator=gen)).sum().backward()
            got[name] = [states.detach(), drive.grad, h0.grad, weight.grad]
        for a, b in zip(got["cpp"], got["numba"], strict=True):
            assert rel_err(a, b) < RTOL


def test_how_the_work_is_shared_among_threads(monkeypatch):
    from lmrnn.models.backends import _sparse_kernels as kernels

    monkeypatch.setattr(kernels.numba.config, "NUMBA_NUM_THREADS", 8)
    big, small = kernels.STEPS_MIN_WORK, kernels.STEPS_MIN_WORK - 1
    assert kernels.split(3, 1, big) == "serial"
    assert kernels.split(4, 2, big) == kernels.split(9, 2, big) == "rows"  # even, or many
    assert kernels.split(3, 2, big) == kernels.split(1, 2, big) == "steps"
    assert kernels.split(3, 2, small) == "rows" and kernels.split(1, 2, small) == "serial"
    assert kernels.split(1, 16, big) == "steps" and kernels.split(8, 16, small) == "rows"


@pytest.mark.parametrize("kind", ["locality", "erdos_renyi"])
def test_the_torch_fallback_gives_the_same_numbers(monkeypatch, kind):
    masks = masks_of(kind, 6, 2, 2)
    compiled = recurrence_and_grads("sparse", masks, "tanh", 10, 5, 7)
    monkeypatch.setattr(sparse, "_compiled", lambda: None)
    fallback = recurrence_and_grads("sparse", masks, "tanh", 10, 5, 7)
    dense = recurrence_and_grads("dense", masks, "tanh", 10, 5, 7)
    for key in ("states", "drive", "h0", "weight"):
        assert rel_err(fallback[key], compiled[key]) < RTOL, key
        assert rel_err(fallback[key], dense[key]) < RTOL, key
    assert not fallback["off the graph"].any()


def test_without_a_compiler_the_numba_loops_run(tmp_path):
    code = (
        "from lmrnn.models.backends import sparse, _sparse_cpp\n"
        "print(sparse.loops_in_use(), '|', _sparse_cpp.REASON)\n"
    )
    env = {**os.environ, "CXX": "no-such-compiler", "LMRNN_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "numba | no C++ compiler (no-such-compiler) on the PATH"
    assert not (tmp_path / "kernels").exists()


def test_the_cpp_loops_are_built_once_into_the_cache(tmp_path):
    code = (
        "from lmrnn.models.backends import sparse, _sparse_cpp\n"
        "print(sparse.loops_in_use(), _sparse_cpp.load() is not None)\n"
    )
    env = {**os.environ, "LMRNN_CACHE": str(tmp_path)}
    compiler_or_skip()
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=300, check=True)  # fmt: skip
        assert done.stdout.split() == ["cpp", "True"], done.stderr
    built = list((tmp_path / "kernels").iterdir())
    assert len(built) == 1 and built[0].suffix == ".so"  # no temporary file left behind


def test_a_bad_loops_setting_is_refused(monkeypatch):
    monkeypatch.setenv("LMRNN_SPARSE_LOOPS", "fortran")
    with pytest.raises(LmrnnError, match="must be cpp, numba or torch, got 'fortran'"):
        sparse.loops_in_use()


def test_numba_disable_jit_selects_the_fallback():
    code = (
        "import torch; from lmrnn.models.backends import sparse, run_recurrence\n"
        "m = torch.eye(4, dtype=torch.bool)\n"
        "h = run_recurrence('sparse', torch.ones(3, 1, 2, 4), torch.zeros(1, 2, 4),\n"
        "                   2 * torch.eye(4)[None], 'relu', None, m)\n"
        "print(sparse.compiled_available(), h[-1, 0, 0, 0].item())\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "LMRNN_NO_CPP": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.split() == ["False", "7.0"]  # 1, 3, 7


# --- the graph format and refusals -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["locality", "erdos_renyi", "autapse"])
def test_graph_format_lists_neighbours_and_their_transpose(kind):
    masks = masks_of(kind, 7, 0 if kind == "autapse" else 2, 3)
    graph = sparse.graph_format(masks)
    assert graph.idx.shape[0] == (3 if kind == "erdos_renyi" else 1)
    assert sparse.graph_format(masks) is graph  # cached on the mask
    n_units, k = masks.shape[1], graph.in_degree
    for g in range(graph.idx.shape[0]):
        rebuilt = torch.zeros(n_units, n_units, dtype=torch.bool)
        rebuilt[torch.arange(n_units)[:, None], graph.idx[g]] = True
        assert torch.equal(rebuilt, masks[g]) and graph.idx32.dtype == torch.int32
        toff, tsrc, tpos = graph.toff[g].long(), graph.tsrc[g].long(), graph.tpos[g]
        assert torch.equal(toff.diff(), masks[g].sum(0))  # out-degrees
        j = torch.repeat_interleave(torch.arange(n_units), toff.diff())
        assert torch.equal(graph.idx[g].reshape(-1)[tpos], j)  # each edge reads unit j
        assert torch.equal(tsrc, tpos // k)


def test_graph_shape_knows_a_fixed_in_degree():
    assert GraphShape.of([locality(9, 2)]).in_degree == 13
    assert GraphShape.of([erdos_renyi(49, 5, s) for s in range(3)]).in_degree == 5
    assert GraphShape.of([autapse(10)]).in_degree == 1
    assert GraphShape.of([from_adjacency(uneven_adjacency())]).in_degree is None
    assert GraphShape.of([erdos_renyi(49, 5, 0), erdos_renyi(49, 6, 1)]).in_degree is None


def uneven_adjacency() -> torch.Tensor:
    """(6, 6) bool: self-edges, and two more into unit 0."""
    adjacency = torch.eye(6, dtype=torch.bool)
    adjacency[0, 1:3] = True
    return adjacency


def test_uneven_in_degrees_are_refused():
    adjacency = uneven_adjacency()
    cfg = ModelConfig(graph="custom", adjacency=adjacency.int().numpy(), n_in=2, n_out=2)
    with pytest.raises(LmrnnError, match="the same in-degree") as err:
        MaskedRNN(cfg.replace(backend="sparse"))
    assert "\n" not in str(err.value)
    with pytest.raises(LmrnnError, match="the same in-degree"):
        sparse.graph_format(adjacency)


def test_cuda_and_other_devices_are_refused():
    shape = GraphShape.of([locality(6, 1)])
    with pytest.raises(LmrnnError, match="runs on the CPU, not on cuda"):
        choose_backend("sparse", shape, torch.device("cuda"), 1, "relu")
    assert choose_backend("sparse", shape, torch.device("cpu"), 3, "tanh") == "sparse"
    mask = locality(4, 1).adjacency
    drive = torch.zeros(2, 1, 1, 16, device="meta")
    with pytest.raises(LmrnnError, match="runs on the CPU"):
        sparse.sparse_recurrence(drive, torch.zeros(1, 1, 16), torch.zeros(1, 16, 16),
                                 sparse.graph_format(mask), "relu")  # fmt: skip


def test_auto_picks_sparse_on_the_cpu_for_sparse_graphs_of_one_in_degree():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    measured = (
        locality(20, 2),
        locality(50, 6),
        locality(16, 4),
        locality(20, 5),
        locality(30, 8),
        erdos_renyi(400, 13, 0),
        autapse(30),
    )  # up to 0.22 N: faster
    for graph in measured:
        assert choose_backend("auto", GraphShape.of([graph]), cpu, 3, "relu") == "sparse"
        assert choose_backend("auto", GraphShape.of([graph]), cuda, 3, "relu") != "sparse"
    for dense_ish in (locality(20, 7), locality(16, 6)):  # 0.37 N, 0.44 N: a tie, or slower
        assert choose_backend("auto", GraphShape.of([dense_ish]), cpu, 3, "relu") != "sparse"


def test_auto_keeps_off_sparse_without_its_compiled_loops(monkeypatch):
    monkeypatch.setattr(sparse, "compiled_available", lambda: False)
    shape = GraphShape.of([locality(20, 2)])
    assert choose_backend("auto", shape, torch.device("cpu"), 3, "relu") == "batched"  # N = 400
    pool = GraphShape.of([autapse(30)])
    assert choose_backend("auto", pool, torch.device("cpu"), 3, "relu") == "banded"


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_the_input_product_over_non_zeros_equals_baddbmm(threads, n_threads):
    """``sparse_input_drive`` against ``torch.baddbmm`` on random sparse inputs, outputs and
    gradients: unit counts below, at and past the register blocks of the C++ loops (split among
    the threads), inputs shared by the seeds or their own, rows with no non-zero."""
    if sparse.loops_in_use() != "cpp":
        pytest.skip("the input product over non-zeros runs on the C++ loops only")
    threads(n_threads)
    rng = random.Random(n_threads)
    for n_units in (7, 32, 33, 64, 100, 150, 401):
        n_seeds, rows, n_in = rng.randint(1, 3), rng.randint(1, 40), rng.randint(1, 30)
        shared = rng.random() < 0.5
        gen = torch.Generator().manual_seed(n_units)
        u = torch.randn(1 if shared else n_seeds, rows, n_in, generator=gen)
        u *= torch.rand(u.shape, generator=gen) < 0.15  # mostly zero, some rows all zero
        weight = torch.randn(n_seeds, n_units, n_in, generator=gen, requires_grad=True)
        bias = torch.randn(n_seeds, n_units, generator=gen, requires_grad=True)
        probe = torch.randn(n_seeds, rows, n_units, generator=gen)
        got = sparse.sparse_input_drive(u, weight, bias)
        assert got is not None, (n_units, "the dense product was chosen")
        (got * probe).sum().backward()
        grads = weight.grad.clone(), bias.grad.clone()
        weight.grad = bias.grad = None
        want = torch.baddbmm(bias[:, None, :], u.expand(n_seeds, -1, -1), weight.transpose(1, 2))
        (want * probe).sum().backward()
        assert rel_err(got.detach(), want.detach()) < RTOL, n_units
        assert rel_err(grads[0], weight.grad) < RTOL, n_units
        assert rel_err(grads[1], bias.grad) < RTOL, n_units


THREADED_RUN = """
import sys, torch
from safetensors.torch import save_file
from lmrnn.models.backends import _sparse_cpp, run_recurrence, sparse
from lmrnn.graphs import locality
if sys.argv[2] == "own threads":
    _sparse_cpp.torch_libgomp = lambda: False  # the build without OpenMP
assert sparse.loops_in_use() == "cpp", _sparse_cpp.REASON
torch.set_num_threads(2)
mask = locality(6, 1).adjacency.expand(3, -1, -1)
out = {}
for split in ("rows", "steps"):
    sparse.SPLIT = split
    gen = torch.Generator().manual_seed(0)
    drive = torch.randn(9, 3, 5, 36, generator=gen, requires_grad=True)
    weight = (torch.randn(3, 36, 36, generator=gen) * 0.3 * mask).requires_grad_()
    states = run_recurrence("sparse", drive, torch.zeros(3, 5, 36), weight, "tanh", None, mask)
    (states * torch.randn(states.shape, generator=gen)).sum().backward()
    out.update({split: states.detach(), split + " dx": drive.grad, split + " dw": weight.grad})
save_file(out, sys.argv[1])
print(_sparse_cpp.OPENMP in _sparse_cpp.flags())
"""


def test_the_loops_run_on_torchs_openmp_threads_or_their_own_with_the_same_numbers(tmp_path):
    """Where torch runs on GNU OpenMP the loops are built with it and share torch's runtime (one
    libgomp in the process); built without it they start threads of their own: the same bits."""
    compiler_or_skip()
    from lmrnn.models.backends import _sparse_cpp

    env = {**os.environ, "LMRNN_CACHE": str(tmp_path)}
    got = {}
    for how in ("torch's threads", "own threads"):
        path = tmp_path / f"{how}.safetensors"
        done = subprocess.run([sys.executable, "-c", THREADED_RUN, str(path), how], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        openmp = done.stdout.split()[-1] == "True"
        assert openmp == (how == "torch's threads" and _sparse_cpp.torch_libgomp()), how
        got[how] = load_file(path)
    for key, value in got["own threads"].items():
        assert torch.equal(got["torch's threads"][key], value), key
    assert torch.equal(got["own threads"]["rows"], got["own threads"]["steps"])
    assert len(list((tmp_path / "kernels").glob("*.so"))) == 2  # two builds, cached apart


OPENMP_RUNTIME = """
import numba, numpy as np, torch
from lmrnn.models.backends import _sparse_cpp

@numba.njit(parallel=True)
def bump(a):
    for i in numba.prange(a.size):
        a[i] += 1

bump(np.zeros(64))  # numba's OpenMP layer first: it maps the system's libgomp beside torch's
lib = _sparse_cpp.load()
seen = []
for n in (1, 3, 2):
    torch.set_num_threads(n)
    seen.append(lib.openmp_max_threads())
print(numba.threading_layer(), _sparse_cpp.torch_libgomp(), *seen)
"""


def test_the_loops_share_torchs_openmp_runtime():
    """torch.set_num_threads reaches the loops' OpenMP runtime: it is torch's, even with
    numba's OpenMP layer (the system's libgomp) loaded before the loops."""
    compiler_or_skip()
    done = subprocess.run([sys.executable, "-c", OPENMP_RUNTIME], capture_output=True,
                          text=True, timeout=300, check=True)  # fmt: skip
    layer, openmp, *seen = done.stdout.split()
    if openmp != "True":
        pytest.skip("torch does not run on GNU OpenMP here: the loops keep their own threads")
    assert seen == ["1", "3", "2"], (layer, seen)


def test_a_compiler_without_openmp_builds_the_loops_on_their_own_threads(tmp_path):
    """Where ``-fopenmp`` does not build (a compiler without OpenMP), the loops are built
    without it and start threads of their own, rather than falling back to numba."""
    compiler = compiler_or_skip()
    fake = tmp_path / "no-openmp-c++"
    fake.write_text("#!/bin/sh\n"
                    'for a in "$@"; do [ "$a" = -fopenmp ] && '
                    'echo "error: unsupported option -fopenmp" >&2 && exit 1; done\n'
                    f'exec {compiler} "$@"\n')  # fmt: skip
    fake.chmod(0o755)
    code = (
        "import torch\n"
        "from lmrnn.models.backends import sparse, _sparse_cpp\n"
        "lib = _sparse_cpp.load()\n"
        "print(sparse.loops_in_use(), lib.openmp_max_threads(), _sparse_cpp.REASON)\n"
    )
    env = {**os.environ, "CXX": str(fake), "LMRNN_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    assert done.stdout.split() == ["cpp", "0", "None"], done.stdout + done.stderr


def test_only_mostly_zero_inputs_take_the_product_over_non_zeros():
    if sparse.loops_in_use() != "cpp":
        pytest.skip("the input product over non-zeros runs on the C++ loops only")
    gen = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(2, 30, 20, generator=gen), torch.randn(2, 30, generator=gen)
    dense_rows = torch.randn(2, 700, 20, generator=gen)
    sparse_rows = dense_rows * (torch.rand(dense_rows.shape, generator=gen) < 0.1)
    assert sparse.sparse_input_drive(dense_rows, weight, bias) is None  # baddbmm's turn
    assert sparse.sparse_input_drive(sparse_rows, weight, bias) is not None
