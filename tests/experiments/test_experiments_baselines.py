"""The recipe grid and its rule, on planted grids: a common setting kept when every family is
within the tolerance of its own best, a family's own setting when not, diverged runs scored 0."""

import itertools

from lmrnn.experiments.baselines import choose, grid_points, plot_grid, summary_lines
from lmrnn.experiments.catalog import EXPERIMENTS, RECIPE_GRID, recipe_settings
from lmrnn.experiments.results import ExperimentResult, NetworkResult
from lmrnn.experiments.runner import plan

SETTINGS = list(itertools.product(RECIPE_GRID["clip"], RECIPE_GRID["lr"], RECIPE_GRID["gain"]))


def _grid(scores, families=("dense", "locality", "frozen_autapse"), diverged=()):
    """``scores(collection, family, setting) -> float``: a planted grid on both collections."""
    results = []
    for collection in ("yang", "modcog"):
        nets = {}
        for family in families:
            for setting in SETTINGS:
                if family == "frozen_autapse" and setting[2] != 1.0:
                    continue
                label = f"{family}: net | {setting}"
                config = {"graph": family, "clip": setting[0], "lr": setting[1],
                          "gain": setting[2]}  # fmt: skip
                value = scores(collection, family, setting)
                status, error = "complete", None
                curve = {s: (value * s / 500, 0.0, 1) for s in (0, 100, 200, 300, 400, 500)}
                curve.update({s: (value, 0.0, 1) for s in (300, 400, 500)})
                if (family, setting) in diverged:
                    status, error, curve = "failed", "TrainingDiverged: at step 5", {}
                nets[label] = NetworkResult(label, label, status, error, config, 1.0, curve)
        results.append(ExperimentResult(f"baselines-{collection}", "small", {}, nets))
    return results


def test_a_common_setting_within_the_tolerance_is_kept_for_every_family():
    def scores(collection, family, setting):
        clip, lr, gain = setting
        return 0.7 - 0.1 * (clip == 0) - abs(lr - 1e-3) * 10 - 0.01 * (gain != 1.0)

    choice = choose(grid_points(_grid(scores)))
    assert choice.kept and choice.common[:2] in ((1.0, 1e-3), (5.0, 1e-3))
    assert choice.regret == 0 and not choice.per_family
    assert "kept for every family" in summary_lines(choice)[0]


def test_a_family_far_from_the_common_setting_gets_its_own():
    def scores(collection, family, setting):
        clip, lr, _ = setting
        if family == "dense":  # the dense network learns only when clipped, at a low lr
            return 0.8 if clip > 0 and lr == 3e-4 else 0.1
        return 0.7 if lr == 3e-3 else 0.5

    choice = choose(grid_points(_grid(scores)))
    assert not choice.kept and abs(choice.regret - 0.2) < 1e-9
    assert choice.common[:2] in ((1.0, 3e-4), (5.0, 3e-4))  # the least regret: dense's
    assert choice.per_family["locality"][1] == 3e-3 and "dense" not in choice.per_family
    assert choice.setting_for("dense") == choice.common
    assert choice.setting_for("locality") == choice.per_family["locality"]


def test_a_diverged_run_scores_zero_and_the_frozen_pool_stands_for_every_gain():
    def scores(collection, family, setting):
        return 0.6

    grid = _grid(scores, diverged={("locality", (0.0, 3e-3, 1.0))})
    points = grid_points(grid)
    (dead,) = [p for p in points if p.score == 0.0 and p.collection == "yang"]
    assert dead.family == "locality" and dead.setting == (0.0, 3e-3, 1.0)
    choice = choose(points)
    assert choice.kept and choice.common != (0.0, 3e-3, 1.0)
    assert choice.common[2] in (0.5, 1.0)  # a gain-0.5 setting maps to the frozen pool's 1.0


def test_the_grid_figure_marks_the_chosen_setting(tmp_path):
    grid = _grid(lambda c, f, s: 0.5 + 0.1 * (s == (1.0, 1e-3, 1.0)))
    points = grid_points(grid)
    path = plot_grid(points, choose(points), tmp_path / "grid.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_every_family_gets_the_same_grid_and_budget_at_every_scale():
    for scale in ("ci", "small", "paper"):
        for name in ("baselines-yang", "baselines-modcog"):
            jobs = plan(EXPERIMENTS[name], scale)
            families = {label.split(":")[0] for label in jobs}
            assert len(families) == 7
            for family in families:
                mine = [j for label, j in jobs.items() if label.startswith(family + ":")]
                assert len(mine) == len(recipe_settings(family))
                assert {j.config["steps"] for j in mine} == {next(iter(jobs.values())).config[
                    "steps"]}  # fmt: skip
        assert len(recipe_settings("dense")) == 18
        assert len(recipe_settings("frozen_autapse")) == 9


def test_the_grid_runs_end_to_end_at_ci_scale(tmp_path, capsys):
    """`lmrnn reproduce baselines-yang --scale ci`, then `results` and `report`, as a user
    would (the Mod-Cog half is the same code on other tasks)."""
    from lmrnn.cli import main

    out = tmp_path / "grid"
    assert main(["reproduce", "baselines-yang", "--scale", "ci", "--out", str(out),
                 "--device", "cpu"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["results", str(out)]) == 0
    text = capsys.readouterr().out
    assert "training recipe (lmrnn reproduce baselines):" in text
    assert "least-regret common setting" in text
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert "baselines-yang" in page and "<b>rule</b>" in page and "data:image/png" in page


def _stage2(scores, diverged=(), settings=None):
    """A planted stability stage: ``scores(collection, network, setting) -> float`` for each of
    seeds 1-3; ``diverged``: (network, setting, seed) that diverged (seed scored 0)."""
    results = []
    settings = settings or SETTINGS[:4]
    for collection in ("yang", "modcog"):
        nets = {}
        for network in ("dense: RNN", "locality: LM d=2", "locality: LM d=9"):
            for setting in settings:
                label = f"{network} | {setting}"
                config = {"clip": setting[0], "lr": setting[1], "gain": setting[2],
                          "seeds": [1, 2, 3]}  # fmt: skip
                value = scores(collection, network, setting)
                gone = {s: 5 for (n, st, s) in diverged if (n, st) == (network, setting)}
                per_seed = {step: [value if s not in gone else 0.1 for s in (1, 2, 3)]
                            for step in (300, 400, 500)}  # fmt: skip
                curve = {k: (sum(v) / 3, 0.0, 3) for k, v in per_seed.items()}
                nets[label] = NetworkResult(label, label, "complete", None, config, 1.0, curve,
                                            per_seed=per_seed, diverged=gone)  # fmt: skip
        results.append(ExperimentResult(f"baselines-{collection}-seeds", "small", {}, nets))
    return results


def test_a_setting_that_lost_a_seed_is_not_chosen_and_stage_two_settings_only():
    fast, safe, other = SETTINGS[3], SETTINGS[2], SETTINGS[5]

    def scores(collection, network, setting):
        return {fast: 0.70, safe: 0.69}.get(setting, 0.5)

    # stage 1 (seed 0) found `other` best everywhere, but stage 2 did not run it
    stage1 = _grid(lambda c, f, s: 0.9 if s == other else 0.5, families=("dense", "locality"))
    stage2 = _stage2(scores, diverged={("locality: LM d=9", fast, 2)})
    points = grid_points(stage1 + stage2)
    lost = [p for p in points if p.diverged]
    assert {p.seed_scores[2] for p in lost} == {0.0} and all(p.setting == fast for p in lost)
    choice = choose(points)
    assert choice.common == safe and choice.kept, summary_lines(choice)
    key = ("modcog", "locality: LM d=9", fast)
    assert choice.diverged[key] == 1 and choice.seeds[key] == 3
    # without the lost seed the faster setting wins
    assert choose(grid_points(stage1 + _stage2(scores))).common == fast


def test_a_family_whose_every_stable_setting_is_far_gets_its_own():
    a, b = SETTINGS[2], SETTINGS[3]

    def scores(collection, network, setting):
        if network.startswith("dense"):
            return 0.8 if setting == a else 0.3
        return 0.7 if setting == b else 0.6

    choice = choose(grid_points(_stage2(scores, settings=[a, b])))
    assert not choice.kept
    assert choice.setting_for("dense") == a and choice.setting_for("locality") == b


def test_the_stability_stage_runs_stage_ones_candidates():
    """STABILITY_SETTINGS are what :func:`candidates` draws from the committed stage-1 grid."""
    from pathlib import Path

    from lmrnn.experiments.baselines import candidates
    from lmrnn.experiments.catalog import STABILITY_SETTINGS
    from lmrnn.experiments.results import load

    published = Path(__file__).resolve().parents[2] / "docs" / "results" / "small" / "baselines"
    stage1 = [r for r in load(published) if not r.name.endswith("-seeds")]
    pinned = sorted((s["clip"], s["lr"], s["gain"]) for s in STABILITY_SETTINGS)
    assert candidates(grid_points(stage1)) == pinned


def test_a_results_table_names_the_diverged_seeds():
    from lmrnn.experiments.results import format_table

    result = _stage2(lambda c, n, s: 0.5, diverged={("dense: RNN", SETTINGS[0], 3)})[0]
    result.spec.update({"figure": "grid", "kind": "train"})
    text = format_table(result)
    assert "complete (1 of 3 seeds diverged)" in text and text.count("diverged") == 1


def test_the_fair_recipe_is_the_rules_choice_on_the_committed_grid():
    """recipe.py's fair values are what the rule chooses from the grid committed under
    docs/results/small/baselines (both stages): change one, and this fails until the other
    follows."""
    from pathlib import Path

    from lmrnn.experiments.results import load
    from lmrnn.train.recipe import FAMILIES, recipe_values

    published = Path(__file__).resolve().parents[2] / "docs" / "results" / "small" / "baselines"
    choice = choose(grid_points(load(published)))
    for family in FAMILIES:
        clip, lr, gain = choice.setting_for(family)
        if family == "frozen_autapse":
            gain = 1.0
        values = recipe_values("fair", "dense" if family == "l1" else family,
                               1e-5 if family == "l1" else 0.0)  # fmt: skip
        assert (values["clip"], values["lr"], values["gain"]) == (clip, lr, gain), family
