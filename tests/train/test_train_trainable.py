"""Training a sparse recurrent weight through its non-zeros equals training the dense form."""

import copy

import numpy as np
import pytest
import torch

from lmrnn.models import EnsembleRNN, ModelConfig, clip_grad_norm_per_seed_
from lmrnn.train.trainable import Trainable

CASES = [
    dict(graph="locality", n=5, d=1.0),
    dict(graph="locality", n=6, d=2.0, activation="tanh"),
    dict(graph="locality", n=4, d=0.0),  # the autapse pool
    dict(graph="erdos_renyi", n_units=20, in_degree=4),  # a graph per seed
    dict(graph="small_world", n=5, total_edges=200, local_radius=1.0),
    dict(graph="locality", n=6, d=1.0, excitatory=0.8),  # Dale's law
    dict(graph="locality", n=5, d=1.0, alpha=0.2),
]


def _model(case: dict, seeds=(0, 1, 2)) -> EnsembleRNN:
    return EnsembleRNN(ModelConfig(**case, n_in=7, n_out=3, noise_std=0.0), list(seeds))


def _loss(model: EnsembleRNN, step: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(100 + step)
    u = torch.randn(len(model.seeds), 9, 3, 7, generator=gen)
    logits, _ = model(u)
    target = torch.randn(logits.shape, generator=gen)
    return ((logits - target) ** 2).mean(dim=(1, 2, 3)).sum()


def _dense_step(model, optimizer, clip, step):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer.zero_grad(set_to_none=True)
    _loss(model, step).backward()
    if clip:
        clip_grad_norm_per_seed_(params, clip)
    optimizer.step()
    model.apply_mask_()


def _sparse_step(model, trainable, optimizer, clip, step):
    optimizer.zero_grad(set_to_none=True)
    _loss(model, step).backward()
    trainable.take_grads()
    if clip:
        clip_grad_norm_per_seed_(trainable.tensors, clip)
    optimizer.step()
    trainable.constrain_()
    trainable.write_back_()


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("clip", [0.0, 0.05])
def test_the_non_zeros_train_as_the_dense_weight(case, clip):
    dense = _model(case)
    sparse = copy.deepcopy(dense)
    trainable = Trainable(sparse)
    assert trainable.sparse
    assert trainable.values.shape == (3, int(dense.mask[0].sum()))
    opt_d = torch.optim.Adam([p for p in dense.parameters() if p.requires_grad], lr=3e-2)
    opt_s = torch.optim.Adam(trainable.tensors, lr=3e-2)
    for step in range(6):
        _dense_step(dense, opt_d, clip, step)
        _sparse_step(sparse, trainable, opt_s, clip, step)
    for (name, a), b in zip(dense.named_parameters(), sparse.parameters(), strict=True):
        if clip:  # the per-seed norm sums the same numbers in another order
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
        else:
            assert torch.equal(a, b), name
    assert torch.equal(sparse.weight_hh * ~sparse.mask, torch.zeros_like(sparse.weight_hh))
    if "excitatory" in case:  # every weight keeps its sender's sign
        signs = sparse.sign[:, None, :]
        assert bool((sparse.weight_hh * signs >= 0).all())


def test_dense_graphs_and_uneven_graphs_train_the_weight_itself():
    dense = EnsembleRNN(ModelConfig(graph="dense", n_units=12, n_in=7, n_out=3), [0, 1])
    assert not Trainable(dense).sparse
    assert Trainable(dense).tensors[0] is dense.weight_hh
    custom = np.zeros((6, 6))
    custom[0, :3] = 1  # unit 0 reads 3 units, the others none
    uneven = EnsembleRNN(ModelConfig(graph="custom", adjacency=custom, n_in=7, n_out=3), [0])
    assert Trainable(uneven).sparse  # one seed: the count is the same for every seed
    frozen = EnsembleRNN(ModelConfig(graph="frozen_autapse", n=3, n_in=7, n_out=3), [0, 1])
    assert not Trainable(frozen).sparse


def test_a_checkpoint_in_the_dense_form_is_taken_in():
    case = CASES[1]
    dense = _model(case)
    opt_d = torch.optim.Adam([p for p in dense.parameters() if p.requires_grad], lr=3e-2)
    for step in range(3):
        _dense_step(dense, opt_d, 0.0, step)
    saved = copy.deepcopy(opt_d.state_dict())
    previous = [p.detach().clone() for p in dense.parameters() if p.requires_grad]

    resumed = _model(case)
    resumed.load_state_dict(dense.state_dict())
    trainable = Trainable(resumed)
    trainable.read_model_()
    opt_s = torch.optim.Adam(trainable.tensors, lr=3e-2)
    opt_s.load_state_dict(trainable.adopt_optimizer_state(saved))
    adopted = trainable.adopt(previous)
    assert adopted[0].shape == trainable.values.shape
    assert torch.equal(adopted[1], previous[1])
    assert trainable.adopt_optimizer_state(opt_s.state_dict())["state"][0]["exp_avg"].shape == (
        trainable.values.shape
    )
    for step in range(3, 6):
        _dense_step(dense, opt_d, 0.0, step)
        _sparse_step(resumed, trainable, opt_s, 0.0, step)
    for a, b in zip(dense.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_values_follow_the_model_after_it_changes():
    model = _model(CASES[0])
    trainable = Trainable(model)
    with torch.no_grad():
        model.weight_hh.mul_(2.0)
    trainable.read_model_()
    expected = model.weight_hh.reshape(3, -1)[model.mask.reshape(3, -1)].view(3, -1)
    assert torch.equal(trainable.values, expected)
