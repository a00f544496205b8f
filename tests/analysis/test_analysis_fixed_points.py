"""Fixed points: planted systems whose fixed points are known (linear, a 2-unit saddle, autapse
pools in closed form), merging, the network path, errors and ``lmrnn analyze --what
fixed_points``."""

import itertools
import json
import math

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from lmrnn.analysis import (
    find_fixed_points,
    fixed_points,
    input_drive,
    network_step,
    record,
    rule_input,
)
from lmrnn.cli import main
from lmrnn.errors import LmrnnError
from lmrnn.models import MaskedRNN, ModelConfig
from lmrnn.tasks import get_collection

F64 = torch.float64


def _rotation(n: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=torch.Generator().manual_seed(seed),
                                       dtype=F64))  # fmt: skip
    return q


def _sorted(z: np.ndarray) -> np.ndarray:
    return z[np.lexsort((z.imag, z.real))]


@pytest.mark.parametrize("polish", [True, False])
def test_a_stable_linear_system_has_its_one_fixed_point(polish):
    # h -> A h + b (identity activation): the unique fixed point is (I - A)^-1 b
    n = 6
    q = _rotation(n, 0)
    a = q @ torch.diag(torch.tensor([0.7, 0.5, 0.3, -0.2, -0.4, 0.6], dtype=F64)) @ q.T
    b = torch.linspace(-1, 1, n, dtype=F64)
    expected = torch.linalg.solve(torch.eye(n, dtype=F64) - a, b).numpy()
    starts = 3 * torch.randn(40, n, generator=torch.Generator().manual_seed(1), dtype=F64)
    found = find_fixed_points(lambda h: h @ a.T + b, starts, polish=polish, iterations=3000)
    assert len(found) == 1 and found.kind.tolist() == ["stable"]
    np.testing.assert_allclose(found.points[0], expected, atol=1e-9 if polish else 1e-5)
    assert found.q[0] <= found.tol_q and found.starts.tolist() == [40]
    np.testing.assert_allclose(_sorted(found.eigenvalues[0]),
                               _sorted(np.linalg.eigvals(a.numpy())), atol=1e-9)  # fmt: skip
    assert found.n_unstable.tolist() == [0] and found.spectral_radius[0] == pytest.approx(0.7)


def test_an_unstable_linear_fixed_point_is_found_and_called_a_saddle():
    n = 4
    q = _rotation(n, 2)
    a = q @ torch.diag(torch.tensor([1.5, 0.5, 0.2, -0.3], dtype=F64)) @ q.T
    b = torch.tensor([1.0, -2.0, 0.5, 0.0], dtype=F64)
    expected = torch.linalg.solve(torch.eye(n, dtype=F64) - a, b).numpy()
    starts = torch.randn(16, n, generator=torch.Generator().manual_seed(3), dtype=F64)
    found = find_fixed_points(lambda h: h @ a.T + b, starts)
    assert len(found) == 1
    np.testing.assert_allclose(found.points[0], expected, atol=1e-9)
    assert found.kind.tolist() == ["saddle"] and found.n_unstable.tolist() == [1]
    assert abs(found.eigenvalues[0, 0]) == pytest.approx(1.5)  # by decreasing modulus


def test_two_units_with_a_saddle_between_two_stable_points():
    # h -> tanh(W h), W = [[2, 0], [1, 0.5]]: unit 1 is bistable (h1 = tanh(2 h1): 0, ±a), unit
    # 2 follows (h2 = tanh(h1 + h2 / 2)); J = diag(1 - h²) W is lower triangular
    w = torch.tensor([[2.0, 0.0], [1.0, 0.5]], dtype=F64)
    a = brentq(lambda x: math.tanh(2 * x) - x, 0.5, 1.0)
    b = brentq(lambda y: math.tanh(a + 0.5 * y) - y, 0.0, 1.0)
    starts = 4 * torch.rand(200, 2, generator=torch.Generator().manual_seed(4), dtype=F64) - 2
    found = find_fixed_points(lambda h: torch.tanh(h @ w.T), starts)
    order = np.argsort(found.points[:, 0])
    points, kinds = found.points[order], found.kind[order]
    np.testing.assert_allclose(points, [[-a, -b], [0.0, 0.0], [a, b]], atol=1e-10)
    assert kinds.tolist() == ["stable", "saddle", "stable"]
    assert found.n_unstable[order].tolist() == [0, 1, 0]
    np.testing.assert_allclose(np.abs(found.eigenvalues[order[1]]), [2.0, 0.5], atol=1e-10)
    np.testing.assert_allclose(np.abs(found.eigenvalues[order[2]]),
                               [2 * (1 - a**2), 0.5 * (1 - b**2)], atol=1e-9)  # fmt: skip
    converged = int((found.candidate_q <= found.tol_q).sum())
    assert found.starts.sum() == converged >= 150  # the rest stalled far out on tanh's plateaus


def _pool(w: list[float], n_in: int) -> MaskedRNN:
    """An autapse pool (diagonal W) with self-weights ``w``; inputs and biases set by tests."""
    net = MaskedRNN(ModelConfig(graph="autapse", n_units=len(w), n_in=n_in))
    with torch.no_grad():
        net.weight_hh.copy_(torch.diag(torch.tensor(w)))
        net.weight_ih.zero_()
        net.bias_h.zero_()
    return net.eval()


def _closed_form(w: np.ndarray, c: np.ndarray) -> list[tuple[tuple[float, ...], int]]:
    """Every fixed point of h_i = relu(w_i h_i + c_i) (unit by unit: 0 if c_i <= 0, and
    c_i / (1 - w_i) if that is positive), with its number of unstable modes (w_i > 1 at a
    positive solution; 0 at h_i = 0, where the slope is 0)."""
    per_unit = []
    for wi, ci in zip(w, c, strict=True):
        options = [(0.0, False)] if ci <= 0 else []
        if wi != 1 and ci / (1 - wi) > 0:
            options.append((ci / (1 - wi), wi > 1))
        per_unit.append(options)
    return sorted((tuple(v for v, _ in combo), sum(u for _, u in combo))
                  for combo in itertools.product(*per_unit))  # fmt: skip


def _check_closed_form(found, w: np.ndarray, c: np.ndarray) -> None:
    """``found`` holds exactly the closed form's fixed points, with their unstable modes."""
    expected = _closed_form(w, c)
    assert len(found) == len(expected)
    order = np.lexsort(found.points.T[::-1])
    points = np.array([p for p, _ in expected]).reshape(len(expected), len(w))
    np.testing.assert_allclose(found.points[order], points, atol=1e-9)
    assert found.n_unstable[order].tolist() == [u for _, u in expected]


def _self_weights(net: MaskedRNN) -> np.ndarray:
    return net.recurrent_weight().detach().diagonal().double().numpy()


def test_an_autapse_pool_has_every_fixed_point_of_the_closed_form():
    # units 0 and 1 are bistable (c < 0, w > 1: 0 and c / (1 - w)); under the first input
    # unit 2 sits at c / (1 - w) and unit 3 at 0, under the second the other way round
    w = np.array([1.5, 2.0, 0.5, 0.8])
    drives = np.array([[-1.0, -0.5, 0.3, -0.2], [-1.0, -0.5, -0.3, 0.1]])
    coll = get_collection(["go", "dm1"])
    net = _pool(w.tolist(), coll.n_inputs)
    with torch.no_grad():
        net.weight_ih[:, 33:35] = torch.tensor(drives.T, dtype=torch.float32)  # rule -> drive
    u = np.stack([rule_input(coll, "go"), rule_input(coll, "dm1")])
    drive = input_drive(net, u)
    np.testing.assert_allclose(drive.numpy(), drives, atol=1e-7)
    gen = torch.Generator().manual_seed(5)
    starts = 3 * torch.rand(600, 4, generator=gen, dtype=F64)
    groups = torch.arange(2).repeat_interleave(300)
    found = find_fixed_points(network_step(net), starts, groups, drive[groups])
    for g in range(2):
        _check_closed_form(found.select(g), _self_weights(net), drive[g].numpy())
    assert len(found.select(0)) == len(found.select(1)) == 4
    kinds = dict(zip(map(tuple, np.round(found.select(0).points, 6)), found.select(0).kind,
                     strict=True))  # fmt: skip
    assert kinds[(0.0, 0.0, 0.6, 0.0)] == "stable" and kinds[(2.0, 0.5, 0.6, 0.0)] == "saddle"


def test_the_network_jacobian_is_autograds():
    coll = get_collection(["go", "dm1"])
    for activation in ("relu", "tanh", "softplus"):
        net = MaskedRNN(ModelConfig(graph="locality", n=3, d=1.0, n_in=coll.n_inputs,
                                    activation=activation, seed=1))  # fmt: skip
        step = network_step(net)
        h = torch.randn(5, 9, generator=torch.Generator().manual_seed(0), dtype=F64)
        drive = input_drive(net, np.stack([rule_input(coll, "go")] * 5))
        ours = step.jacobian(h, drive)
        for k in range(5):
            one = drive[k]
            ref = torch.autograd.functional.jacobian(lambda x, s=step, u=one: s(x, u), h[k])
            torch.testing.assert_close(ours[k], ref)


def test_starts_at_one_place_merge_and_groups_stay_apart():
    a = 0.5 * torch.eye(3, dtype=F64)
    b = torch.ones(3, dtype=F64)
    starts = torch.ones(10, 3, dtype=F64) + 1e-5 * torch.arange(30, dtype=F64).view(10, 3)
    found = find_fixed_points(lambda h: h @ a.T + b, starts, groups=[0] * 5 + [1] * 5)
    assert len(found) == 2 and sorted(found.group.tolist()) == [0, 1]
    np.testing.assert_allclose(found.points, np.full((2, 3), 2.0), atol=1e-12)
    assert found.starts.tolist() == [5, 5] and found.counts()["stable"] == 2
    numbers = found.to_dict(["first", "second"])
    assert numbers["n_points"] == 2
    assert {p["group"] for p in numbers["points"]} == {"first", "second"}


def test_a_system_without_fixed_points_gives_none():
    found = find_fixed_points(lambda h: h + 1.0, torch.zeros(4, 2, dtype=F64), iterations=50)
    assert len(found) == 0 and found.points.shape == (0, 2) and found.counts()["stable"] == 0
    assert (found.candidate_q > found.tol_q).all()


def test_fixed_points_of_a_network_use_each_tasks_rule_input():
    # a pool as in the closed-form test, as a network: per task, starts from its own trials
    # (plus noise wide enough to reach both basins of the bistable unit); under dm1 unit 0
    # (w > 1, c > 0) grows without bound: no fixed point at all
    coll = get_collection(["go", "dm1"])
    w = np.array([1.5, 0.5, 0.8])
    drives = np.array([[-1.0, 0.3, -0.2], [0.4, 0.2, 0.1]])
    net = _pool(w.tolist(), coll.n_inputs)
    with torch.no_grad():
        net.weight_ih[:, 33:35] = torch.tensor(drives.T, dtype=torch.float32)
    result = fixed_points(net, trials=4, starts=64, collection=coll, noise=2.0)
    assert result.names == ("go", "dm1") and result.inputs.shape == (2, coll.n_inputs)
    for g in range(2):
        c = input_drive(net, result.inputs[g]).numpy()[0]
        _check_closed_form(result.found.select(g), _self_weights(net), c)
    numbers = result.to_dict()
    assert numbers["per_input"]["go"]["n_points"] == 2  # unit 0 bistable under go
    assert numbers["per_input"]["dm1"]["n_points"] == 0
    # the same search on given inputs, from a given recording
    activity = record(net, "go", 4, collection=coll)
    custom = fixed_points(net, "go", inputs={"go": rule_input(coll, "go")}, collection=coll,
                          noise=2.0, activity=activity)  # fmt: skip
    assert custom.names == ("go",) and len(custom.found) == 2


def test_bad_requests_are_refused_in_one_sentence():
    coll = get_collection(["go", "dm1"])
    net = _pool([0.5, 0.5], coll.n_inputs)
    with pytest.raises(LmrnnError, match="input 'x' must be 35 finite values"):
        fixed_points(net, inputs={"x": np.zeros(12)}, collection=coll)
    with pytest.raises(LmrnnError, match="task 'dlygo' is not in this collection"):
        fixed_points(net, "dlygo", collection=coll)
    with pytest.raises(LmrnnError, match="needs its collection"):
        fixed_points(net)
    with pytest.raises(LmrnnError, match="takes 35 inputs"):
        fixed_points(net, collection=["go", "dm1", "anti"])
    with pytest.raises(LmrnnError, match="one value per network input"):
        input_drive(net, np.zeros(3))
    with pytest.raises(LmrnnError, match="starting states must be a non-empty float"):
        find_fixed_points(lambda h: h, torch.zeros(3))
    with pytest.raises(LmrnnError, match="tol_q must be a finite number > 0"):
        find_fixed_points(lambda h: h, torch.zeros(3, 2), tol_q=-1.0)
    with pytest.raises(LmrnnError, match="groups must have one entry per start"):
        find_fixed_points(lambda h: h, torch.zeros(3, 2), groups=[0, 1])


def test_analyze_writes_the_fixed_points_of_every_rule(run, capsys):
    code = main(["analyze", str(run), "--what", "fixed_points", "--trials", "4", "--seed", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    numbers = json.loads((run / "analysis" / "fixed_points.json").read_text())
    assert (run / "analysis" / "fixed_points.png").read_bytes()[:4] == b"\x89PNG"
    assert numbers["seed"] == 2 and numbers["names"] == ["go", "dm1"]
    assert numbers["n_points"] == len(numbers["points"]) >= 1
    assert all(p["kind"] in ("stable", "marginal", "saddle", "unstable") and len(p["point"]) == 9
               and p["q"] <= numbers["tol_q"] for p in numbers["points"])  # fmt: skip
    assert "fixed points:" in out and "constant inputs" in out
    code = main(["analyze", str(run), "--what", "fixed_points", "--trials", "4", "--task", "dm1"])
    assert code == 0
    numbers = json.loads((run / "analysis" / "fixed_points.json").read_text())
    assert numbers["names"] == ["dm1"] and {p["group"] for p in numbers["points"]} <= {"dm1"}
    code = main(["analyze", str(run), "--what", "fixed_points", "--task", "anti"])
    _, err = capsys.readouterr()
    assert code == 2 and "task 'anti' is not in this collection" in err and err.count("\n") == 1


def test_a_newton_step_survives_singular_matrices_in_a_batch():
    """torch's batched solve can refuse a batch holding a singular matrix (seen on two
    threads); those rows take the pseudo-inverse, the others the exact solve."""
    import torch

    from lmrnn.analysis.dynamics import _newton_step

    a = torch.zeros(3, 4, 4)
    a[1] = 2 * torch.eye(4)
    r = torch.ones(3, 4)
    delta = _newton_step(a, r)
    assert torch.equal(delta[1], torch.full((4,), -0.5))
    assert torch.equal(delta[0], torch.zeros(4)) and torch.isfinite(delta).all()


def test_the_search_runs_on_one_cpu_thread_and_restores_the_count():
    import torch

    from lmrnn.analysis.dynamics import find_fixed_points

    seen = []

    def step(h):
        seen.append(torch.get_num_threads())
        return 0.5 * h + 1.0

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        points = find_fixed_points(step, torch.zeros(3, 2, dtype=torch.float64), iterations=50)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        assert len(points) == 1
    finally:
        torch.set_num_threads(before)
