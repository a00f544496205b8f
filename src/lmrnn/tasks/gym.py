"""Every task as a gymnasium environment: ``gymnasium.make("lmrnn/dlygo_intr-v0")``.

One episode is one trial. Observations are the network inputs of one time step,
``Box(-10, 10, (n_inputs,), float32)`` (input noise has σ = 0.1: the bounds never bind);
actions are ``Discrete(17)`` (0 = fixate, i + 1 = ring direction i). Rewards follow
neurogym's scheme, per step: +1 for the target action during the decision period, -0.1 for not
fixating before it, 0 otherwise. ``info`` carries the target ("gt") and the period name of the
step just acted on (of the first step after ``reset``) and, at the end, "performance" (1.0 when
every decision step was right).

The rule input refers to ``collection`` (by default the smallest named collection holding the
task: ``yang20``, ``modcog82`` or ``modcog126``; a task registered with
:func:`lmrnn.tasks.register_task` alone). Registering a task registers its environments.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from lmrnn.errors import LmrnnError
from lmrnn.tasks.batch import PERIODS, trial_batch
from lmrnn.tasks.collection import N_OUTPUTS, Collection, get_collection
from lmrnn.tasks.registry import COLLECTIONS, ON_REGISTER, _all_known_names, parse_task

ABORT_REWARD = -0.1
CORRECT_REWARD = 1.0
OBS_BOUND = 10.0


def default_collection(task: str) -> str | list[str]:
    """The smallest named collection that holds ``task``; for a task registered by the user,
    the collection of that task alone."""
    name = parse_task(task).name
    named = (c for c in ("yang20", "modcog82", "modcog126") if name in COLLECTIONS[c])
    return next(named, [name])


class TaskEnv(gymnasium.Env):
    """One lmrnn task as a gymnasium environment (one trial per episode)."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        task: str,
        collection: str | list[str] | Collection | None = None,
        dt: int = 100,
        profile: str = "modcog",
        noise: bool = True,
    ) -> None:
        self.task = parse_task(task).name
        self.collection = get_collection(collection or default_collection(self.task), dt, profile)
        self.collection.index(self.task)  # raises if the task is not in the collection
        self.noise = noise
        self.observation_space = gymnasium.spaces.Box(
            -OBS_BOUND, OBS_BOUND, shape=(self.collection.n_inputs,), dtype=np.float32
        )
        self.action_space = gymnasium.spaces.Discrete(N_OUTPUTS)
        self._trial_seed = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        trial_seed = int(self.np_random.integers(2**62))
        batch = trial_batch(self.collection, self.task, 1, trial_seed, noise=self.noise)
        self._obs = batch.inputs[:, 0].clamp(-OBS_BOUND, OBS_BOUND).numpy()
        self._gt = batch.targets[:, 0].numpy()
        self._decision = int(batch.decision_start[0])
        self._starts = batch.period_starts[0].tolist()
        self._t = 0
        self._correct = True
        return self._obs[0], self._info(0)

    def _info(self, t: int) -> dict[str, Any]:
        period = PERIODS[max(i for i, s in enumerate(self._starts) if s <= t)]
        return {"gt": int(self._gt[t]), "period": period}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in 0..{N_OUTPUTS - 1}, got {action!r}.")
        if not hasattr(self, "_gt") or self._t >= len(self._gt):
            raise LmrnnError("the episode is over (or never began); call reset() first.")
        gt = int(self._gt[self._t])
        info = self._info(self._t)
        if self._t >= self._decision:
            reward = CORRECT_REWARD if action == gt else 0.0
            self._correct &= action == gt
        else:
            reward = ABORT_REWARD if action != 0 else 0.0
        self._t += 1
        terminated = self._t >= len(self._gt)
        if terminated:
            info["performance"] = float(self._correct)
        obs = self._obs[min(self._t, len(self._obs) - 1)]
        return obs, reward, terminated, False, info


def register_all() -> None:
    """Register every task of the battery as ``lmrnn/<name>-v0``, and under the public Mod-Cog
    file's spelling (``lmrnn/dlygointl-v0``) too (idempotent)."""
    for name in _all_known_names():
        for spelling in dict.fromkeys((name, name.replace("_", ""))):
            env_id = f"lmrnn/{spelling}-v0"
            if env_id not in gymnasium.registry:
                gymnasium.register(env_id, entry_point=TaskEnv, kwargs={"task": name})


ON_REGISTER.append(register_all)
