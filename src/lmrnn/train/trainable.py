"""What the optimiser, the gradient clipping and the divergence guard work on.

Every trainable parameter of an :class:`~lmrnn.models.EnsembleRNN`, except that a sparse
recurrent weight W (S, N, N), zero off its graph, is replaced by its non-zeros ``values``
(S, M), M edges per seed. Adam is elementwise and an off-graph weight has gradient exactly 0,
Adam state 0 and update 0 in the dense form, so training on the non-zeros gives the weights
of the dense form (bit for bit without clipping; with clipping the per-seed norm sums the same
numbers in another order), at M / N² of its optimiser work and memory: at LM(50x50, d=6),
113 of 2500 entries per row.

The step, in the training loop's order::

    trainable.take_grads()      # after backward: the gradient of the non-zeros
    clip / optimizer.step()     # on trainable.tensors
    trainable.constrain_()      # Dale's law: each weight back to its sender's sign
    guard.after_step(...)       # may put tensors back
    trainable.write_back_()     # W[graph] <- values

The edges are the mask's non-zeros in row-major order (receiving unit, then sending unit), the
order of the ``sparse`` back-end's neighbour lists. W is dense where the graph is (density above
:data:`MAX_DENSITY`) or where seeds have graphs with different edge counts; then ``tensors``
are the model's parameters themselves.
"""

from __future__ import annotations

import torch

from lmrnn.models import EnsembleRNN

MAX_DENSITY = 0.5
"""Above this fraction of non-zeros the dense weight itself is trained (gathering would cost
more than it saves)."""


class Trainable:
    """The tensors the optimiser sees for ``model``: its trainable parameters, with a sparse
    recurrent weight as its non-zeros (see the module)."""

    def __init__(self, model: EnsembleRNN) -> None:
        self.model = model
        params = [p for p in model.parameters() if p.requires_grad]
        weight = model.weight_hh
        self.index: torch.Tensor | None = None  # (S, M) flat positions i·N + j of the edges
        self.values: torch.Tensor | None = None  # (S, M) the weights on them
        self.tensors: list[torch.Tensor] = params
        if not any(p is weight for p in params):  # the frozen pool: W is a buffer
            return
        mask = model.mask.reshape(model.n_seeds, -1)
        counts = mask.sum(1)
        if not bool((counts == counts[0]).all()) or int(counts[0]) > MAX_DENSITY * mask.shape[1]:
            return
        self.index = mask.nonzero()[:, 1].view(model.n_seeds, -1)
        with torch.no_grad():
            self.values = weight.reshape(model.n_seeds, -1).gather(1, self.index)
        self.tensors = [self.values if p is weight else p for p in params]
        self._signs = None
        sign = getattr(model, "sign", None)  # Dale's law: (S, N), each sender's sign
        if sign is not None:
            self._signs = sign.gather(1, self.index % model.n_units)

    @property
    def sparse(self) -> bool:
        """Whether the recurrent weight is trained through its non-zeros."""
        return self.index is not None

    @torch.no_grad()
    def read_model_(self) -> None:
        """values <- W[graph] (after the model's weights were loaded or changed)."""
        if self.values is not None:
            torch.gather(self.model.weight_hh.reshape(self.model.n_seeds, -1), 1, self.index,
                         out=self.values)  # fmt: skip

    def take_grads(self) -> None:
        """After ``backward``: the non-zeros' gradient into ``values.grad`` (W's is dropped)."""
        if self.values is None:
            return
        weight = self.model.weight_hh
        grad = weight.grad
        self.values.grad = (
            None if grad is None else grad.reshape(grad.shape[0], -1).gather(1, self.index)
        )
        weight.grad = None

    @torch.no_grad()
    def constrain_(self) -> None:
        """After the optimiser's step: W on its graph (the dense form multiplies by the mask)
        and, with Dale's law, each weight back to its sender's sign (a weight that crossed zero
        stays at zero)."""
        if self.values is None:
            self.model.apply_mask_()
        elif self._signs is not None:
            self.values.mul_(self._signs).clamp_(min=0).mul_(self._signs)

    @torch.no_grad()
    def write_back_(self) -> None:
        """W[graph] <- values (the model then runs with the updated weights)."""
        if self.values is not None:
            weight = self.model.weight_hh
            weight.reshape(self.model.n_seeds, -1).scatter_(1, self.index, self.values)

    def adopt(self, tensors: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
        """Tensors saved one per trainable parameter in the dense form (the guard's weights in a
        checkpoint written before training on the non-zeros) in this form: the recurrent
        weight's gathered on the graph, the rest as they are; this form comes back unchanged."""
        if self.values is None:
            return tensors
        position = self._position()
        return [self._gather(t) if i == position else t for i, t in enumerate(tensors)]

    def _position(self) -> int:
        return next(i for i, t in enumerate(self.tensors) if t is self.values)

    def _gather(self, t: torch.Tensor | None) -> torch.Tensor | None:
        shape = tuple(self.model.weight_hh.shape)
        if torch.is_tensor(t) and tuple(t.shape) == shape:
            return t.reshape(shape[0], -1).gather(1, self.index.to(t.device))
        return t

    def adopt_optimizer_state(self, state: dict) -> dict:
        """An optimiser ``state_dict`` saved in the dense form, in this form (see :meth:`adopt`);
        one saved in this form comes back unchanged."""
        if self.values is None:
            return state
        group_ids = [i for g in state["param_groups"] for i in g["params"]]
        key = group_ids[self._position()]
        per_param = dict(state["state"])
        if key in per_param:
            per_param[key] = {name: self._gather(v) for name, v in per_param[key].items()}
        return {**state, "state": per_param}
