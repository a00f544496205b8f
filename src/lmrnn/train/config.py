"""The training config: one flat, validated record, from YAML plus ``key=value`` overrides.

Defaults are the paper's scale for the training itself (Adam 1e-3, batch 4 x 350 steps of
neurogym-style stream data, as in the public task file's example), with a small network so
that a bare ``lmrnn train`` finishes on a laptop. Unknown or mistyped keys are refused with
the nearest valid name; every bad value is refused, in one sentence, before any work starts.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lmrnn.checks import check_device, check_fraction, check_int, check_seed
from lmrnn.errors import LmrnnError, check_choice, did_you_mean
from lmrnn.graphs.checks import check_no_wrap, check_radius
from lmrnn.models import GRAPH_KINDS, ModelConfig
from lmrnn.seeds import derive_seed
from lmrnn.tasks import CRITERIA, Collection, get_collection
from lmrnn.train.recipe import RECIPE_KEYS, RECIPES, recipe_values

DATA_STREAMS = ("per_seed", "shared")


@dataclass(frozen=True)
class TrainConfig:
    """A validated training config. The fields and their defaults, in one block:"""

    # data
    collection: str | tuple[str, ...] = "yang20"  # yang20 | modcog82 | modcog126 | task names
    dt: int = 100  # ms per step
    batch_size: int = 4  # rows of back-to-back trials per step
    seq_len: int = 350  # steps per row
    data_seed: int = 0  # the stream(s) of training batches
    data_streams: str = "per_seed"  # per_seed: seed s draws from (data_seed, s) | shared
    data_chunk: int = 8  # batches drawn per call of the generator (amortises its fixed cost)
    # network
    graph: str = (
        "locality"  # locality | erdos_renyi | small_world | autapse | frozen_autapse | dense
    )
    n: int | None = 16  # lattice side (N = n²); or give n_units for graphs without a lattice
    n_units: int | None = None
    d: float = 2.0  # locality radius, lattice spacings
    in_degree: int | None = None  # erdos_renyi (default: the locality mask's at d)
    total_edges: int | None = None  # small_world (default: the locality mask's at d)
    local_radius: float | None = None  # small_world: 0 = random ... d = LM
    activation: str = "relu"  # relu | tanh | softplus
    noise_std: float = 0.0  # recurrent noise during training (σ of the CTRNN with tau)
    gain: float | None = None  # g of the recurrent init (None: the recipe's)
    tau: float | None = None  # ms, leaky units with alpha = dt / tau (None: alpha = 1, the paper's)
    dale: bool = False  # Dale's law: each unit's outgoing weights keep one sign
    excitatory: float = 0.8  # the fraction of excitatory units under Dale's law
    backend: str = "auto"  # auto | dense | batched | banded | cudnn
    # optimisation
    recipe: str = "fair"  # fair | legacy: the defaults of clip, lr and gain (lmrnn.train.recipe)
    steps: int = 2000
    lr: float | None = None  # Adam's learning rate (None: the recipe's)
    l1: float = 0.0  # λ of an L1 penalty on the recurrent weights (Table 1's L1 RNNs)
    l1_threshold: float = 1e-3  # |w| above which a weight counts as non-zero after training
    clip: float | None = None  # per-seed gradient-norm clipping, 0 = off (None: the recipe's)
    seeds: tuple[int, ...] = (0, 1, 2)  # trained together as one ensemble
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    # evaluation and outputs
    eval_every: int = 200
    eval_trials: int = 64  # held-out trials per task, fixed evaluation seeds
    eval_seed: int = 10_000
    checkpoint_every: int = 200
    out: str = "runs/train"
    tensorboard: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.collection, list):
            object.__setattr__(self, "collection", tuple(self.collection))
        if isinstance(self.seeds, int):
            object.__setattr__(self, "seeds", (self.seeds,))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        check_choice("recipe", self.recipe, tuple(RECIPES))
        if isinstance(self.graph, str) and isinstance(self.l1, (int, float)):
            for key, value in recipe_values(self.recipe, self.graph, self.l1).items():
                if getattr(self, key) is None:
                    object.__setattr__(self, key, value)
        _validate(self)

    # -- derived -------------------------------------------------------------------------
    def tasks(self) -> Collection:
        """The task collection (:class:`lmrnn.tasks.Collection`)."""
        return get_collection(self.collection, dt=self.dt)

    def model_config(self) -> ModelConfig:
        """The network of this run (seed 0; the ensemble sets each seed)."""
        coll = self.tasks()
        n, n_units = self.n, self.n_units
        if self.graph in ("locality", "small_world"):
            n_units = None
        elif n_units is not None and n is not None and n * n != n_units:
            n = None  # n_units wins for graphs without a lattice (dense, autapse, ER)
        return ModelConfig(
            graph=self.graph, n=n, n_units=n_units, d=self.d, in_degree=self.in_degree,
            total_edges=self.total_edges, local_radius=self.local_radius,
            activation=self.activation, n_in=coll.n_inputs, n_out=coll.n_outputs,
            noise_std=self.noise_std, gain=self.gain, backend=self.backend, alpha=self.alpha,
            excitatory=self.excitatory if self.dale else None,
        )  # fmt: skip

    @property
    def alpha(self) -> float:
        """dt / tau of the leaky units (1 without tau)."""
        return 1.0 if self.tau is None else self.dt / self.tau

    def stream_seeds(self) -> tuple[int, ...]:
        """The seed of each training-batch stream: one per seed (``per_seed``, seed s draws
        from ``derive_seed(data_seed, s)``, so it sees what it would see trained alone) or the
        one ``data_seed`` that every seed shares (``shared``)."""
        if self.data_streams == "shared":
            return (self.data_seed,)
        return tuple(derive_seed(self.data_seed, s) for s in self.seeds)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["seeds"] = list(self.seeds)
        if isinstance(self.collection, tuple):
            out["collection"] = list(self.collection)
        return out

    def replace(self, **changes: Any) -> TrainConfig:
        return from_dict({**self.to_dict(), **changes})


FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))
#: Keys added after runs were published, with their defaults: at those, a config is the one a
#: run of an earlier version recorded without them (the same run id, and it resumes).
ADDED_LATER: dict[str, Any] = {"tau": None, "dale": False, "excitatory": 0.8}
#: Every key and its default.
DEFAULTS: dict[str, Any] = {
    **{f.name: f.default for f in dataclasses.fields(TrainConfig)},
    **recipe_values(TrainConfig.recipe, TrainConfig.graph),
}


def _validate(c: TrainConfig) -> None:
    c.tasks()  # unknown task or collection, dt
    positive = ("dt", "batch_size", "seq_len", "steps", "eval_every", "eval_trials",
                "checkpoint_every", "data_chunk")  # fmt: skip
    for name in positive:
        _set(c, name, check_int(name, getattr(c, name)))
    for name in ("data_seed", "eval_seed"):
        _set(c, name, check_seed(name, getattr(c, name)))
    if not c.seeds:
        raise LmrnnError("seeds is empty; give at least one seed, e.g. seeds=[0,1,2].")
    _set(c, "seeds", tuple(check_seed("every seed", s) for s in c.seeds))
    if len(set(c.seeds)) != len(c.seeds):
        raise LmrnnError(f"seeds {list(c.seeds)} repeat a seed; list each seed once.")
    check_choice("graph", c.graph, GRAPH_KINDS)
    check_choice("data_streams", c.data_streams, DATA_STREAMS)
    check_radius("d", c.d)
    if not isinstance(c.out, (str, os.PathLike)) or not str(c.out).strip():
        got = "nothing" if c.out is None or not str(c.out).strip() else repr(c.out)
        raise LmrnnError(f"out must be a folder path (e.g. out=runs/x), got {got}.")
    if c.n is not None:
        _set(c, "n", check_int("n", c.n))
    if c.graph in ("locality", "small_world") and c.n is not None:
        check_no_wrap(c.n, c.d if c.graph == "locality" else max(c.d, c.local_radius or 0))
    if c.in_degree is not None and c.graph != "erdos_renyi":
        raise LmrnnError(
            f"in_degree sets the in-degree of erdos_renyi graphs, not of graph={c.graph!r}; "
            "remove it or use graph=erdos_renyi."
        )
    for name in ("total_edges", "local_radius"):
        if getattr(c, name) is not None and c.graph != "small_world":
            raise LmrnnError(
                f"{name} is a setting of small_world graphs, not of graph={c.graph!r}; remove "
                "it or use graph=small_world."
            )
    if c.n_units is not None and c.graph in ("locality", "small_world"):
        raise LmrnnError(
            f"graph={c.graph} sits on an n x n lattice: give its side n, not n_units={c.n_units!r}."
        )
    if c.l1 and c.graph == "frozen_autapse":
        raise LmrnnError(
            "l1 penalises trained recurrent weights, and a frozen_autapse pool has none; "
            "remove l1 or use graph=autapse."
        )
    for name in ("lr", "gain"):
        value = getattr(c, name)
        if not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise LmrnnError(f"{name} must be a finite number > 0, got {value!r}.")
    for name in ("l1", "l1_threshold", "noise_std"):
        value = getattr(c, name)
        if not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
            raise LmrnnError(f"{name} must be a finite number >= 0, got {value!r}.")
    clip_ok = isinstance(c.clip, (int, float)) and not isinstance(c.clip, bool)
    if not (clip_ok and math.isfinite(c.clip) and c.clip >= 0):
        raise LmrnnError(
            f"clip must be a finite number > 0 (the largest gradient norm per seed) or 0 (off), "
            f"got {c.clip!r}."
        )
    if c.tau is not None:
        tau_ok = isinstance(c.tau, (int, float)) and not isinstance(c.tau, bool)
        if not (tau_ok and math.isfinite(c.tau) and c.tau >= c.dt):
            raise LmrnnError(
                f"tau must be a time constant in ms of at least dt = {c.dt} ms (alpha = dt / tau "
                f"<= 1), got {c.tau!r}; leave it out for the paper's units (alpha = 1)."
            )
    if not isinstance(c.dale, bool):
        raise LmrnnError(f"dale must be true or false, got {c.dale!r}.")
    check_fraction("excitatory", c.excitatory, hint="0.8 is the usual one")
    resolve_device(c.device)
    c.model_config()  # the network's own checks (sizes, activation, back-end)
    if c.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise LmrnnError(
            "tensorboard=true needs the tensorboard package: pip install 'lmrnn[tensorboard]'."
        )


def _set(c: TrainConfig, name: str, value: Any) -> None:
    """Put a checked value back in its plain type (a numpy integer as an int: the config is
    written as YAML and hashed into run ids)."""
    object.__setattr__(c, name, value)


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; refuse unknown or absent devices."""
    return str(check_device(device, auto=True))


def from_dict(mapping: Mapping[str, Any]) -> TrainConfig:
    """A config from a mapping; unknown keys are refused with the nearest valid name."""
    for key in mapping:
        if key not in FIELDS:
            raise LmrnnError(
                f"unknown config key {key!r}{did_you_mean(str(key), FIELDS)}; "
                "`lmrnn train --show-defaults` lists every key."
            )
    values = {k: _number(k, v) for k, v in mapping.items()}
    if "recipe" not in values and all(k in values for k in RECIPE_KEYS):
        # a config written before recipes existed (a run folder's config.yaml): every value
        # given, and clip null meant "off"
        values["recipe"] = "legacy"
        values.setdefault("data_streams", "shared")
        if values["clip"] is None:
            values["clip"] = 0.0
    return TrainConfig(**values)


_FLOAT_FIELDS = ("d", "local_radius", "noise_std", "gain", "lr", "l1", "l1_threshold", "clip",
                 "tau", "excitatory")  # fmt: skip


def _number(key: str, value: Any) -> Any:
    """A float field as a float: ``d=1`` and ``d=1.0`` are one config (and one run id), and YAML
    1.1's string ``1e-3`` is the number the user meant."""
    if key not in _FLOAT_FIELDS or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["d=2", "seeds=[0,1]", "collection=modcog82"]`` -> a dict (values read as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LmrnnError(f"override {item!r} is not of the form key=value (e.g. d=2).")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise LmrnnError(f"override {item!r} has a value that is not valid YAML.") from exc
    return out


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Read a YAML config (optional) and apply ``key=value`` overrides on top."""
    mapping: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise LmrnnError(f"config file {str(p)!r} does not exist.")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise LmrnnError(
                f"config file {str(p)!r} is not UTF-8 text; save it as UTF-8 YAML."
            ) from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            raise LmrnnError(f"config file {str(p)!r} is not valid YAML{line}.") from None
        if not isinstance(loaded, dict):
            raise LmrnnError(f"config file {str(p)!r} must hold a mapping of key: value.")
        loaded.pop("environment", None)  # a run's config.yaml: what it ran on, not a setting
        mapping.update(loaded)
    mapping.update(parse_overrides(overrides))
    return from_dict(mapping)


__all__ = ["ADDED_LATER", "CRITERIA", "DEFAULTS", "FIELDS", "TrainConfig", "from_dict",
           "load_config", "parse_overrides", "resolve_device"]  # fmt: skip
