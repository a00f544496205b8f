"""The sensitivity experiments: every variant's networks judged by the base experiment's own
rules, on planted results where a claim holds under one model choice and fails under another."""

from lmrnn.experiments.catalog import EXPERIMENTS, SENSITIVITY_VARIANTS
from lmrnn.experiments.results import ExperimentResult, NetworkResult
from lmrnn.experiments.runner import plan
from lmrnn.experiments.sensitivity import rows, summary, table_lines
from lmrnn.train.recipe import recipe_values

STEPS = list(range(0, 1501, 100))


def _net(label: str, graph: str, curve) -> NetworkResult:
    """Three seeds whose performance at each step is ``curve(step)`` ± 0.01."""
    per_seed = {s: [curve(s) + e for e in (-0.01, 0.0, 0.01)] for s in STEPS}
    mean = {s: (sum(v) / 3, 0.006, 3) for s, v in per_seed.items()}
    return NetworkResult(label, label, "complete", None, {"graph": graph, "seeds": [0, 1, 2]},
                         1.0, mean, per_seed=per_seed)  # fmt: skip


def _planted() -> ExperimentResult:
    def rise(early_level):  # reaches early_level at step 300, 0.9 (flat) from 800
        return lambda s: (
            0.1
            if s == 0
            else min(0.9, early_level + (0.9 - early_level) * max(0, s - 300) / 500)
            if s >= 300
            else 0.1 + (early_level - 0.1) * s / 300
        )

    shapes = {"a=1, relu, fair": (0.6, 0.3), "a=0.2, relu, fair": (0.2, 0.5)}
    nets, spec_nets = {}, []
    for variant, (frozen, trained) in shapes.items():
        for label, graph, level in (
            (f"{variant} | 256 frozen autapses (16x16)", "frozen_autapse", frozen),
            (f"{variant} | 256 autapses (16x16)", "autapse", trained),
        ):
            nets[label] = _net(label, graph, rise(level))
            spec_nets.append({"label": label, "overrides": {"graph": graph}})
    spec = {"name": "sensitivity-fig3i", "figure": "Fig 3i under other model choices",
            "kind": "train", "claims": [], "networks": spec_nets}  # fmt: skip
    return ExperimentResult("sensitivity-fig3i", "small", spec, nets)


def test_each_variant_is_judged_by_the_base_rules():
    judged = rows([_planted()])
    by_variant = {r.variant: r for r in judged}
    assert set(by_variant) == {"a=1, relu, fair", "a=0.2, relu, fair"}
    assert all(r.claim == "C6" for r in judged)
    assert by_variant["a=1, relu, fair"].verdict == "holds", by_variant["a=1, relu, fair"].ours
    assert by_variant["a=0.2, relu, fair"].verdict == "does not hold"
    assert "depends on the model choice" in summary(judged)["C6"]
    assert any("a=0.2, relu, fair" in line for line in table_lines(judged))


def test_the_sensitivity_experiments_cover_the_variants_and_share_the_base_runs():
    assert len(SENSITIVITY_VARIANTS) == 9
    for part in ("fig2a", "fig3", "fig3i"):
        experiment = EXPERIMENTS[f"sensitivity-{part}"]
        base = plan(EXPERIMENTS[part], "small")
        mine = plan(experiment, "small")
        for label, job in base.items():  # the paper's model, fair recipe: the same runs
            assert mine[f"a=1, relu, fair | {label}"].id == job.id
        leaky = [j for k, j in mine.items() if k.startswith("a=0.2")]
        assert leaky and all(j.config["tau"] == 500.0 for j in leaky)
        dale = [j for k, j in mine.items() if k.endswith("Dale") or "Dale |" in k]
        if part == "fig2a":
            assert dale and all(j.config["dale"] and j.config["graph"] != "autapse" for j in dale)
        else:
            assert not dale
        plan(experiment, "ci")


def test_the_mod_cog_recipe_sensitivity_trains_again_only_the_networks_it_changes():
    """Under "one recipe" every network trains at the dense networks' clip 5, lr 1e-3: the
    dense and L1 networks (and every network under the fair variant) are the base
    experiment's own runs; only the LMs, whose fair setting differs, are new."""
    common = recipe_values("fair", "dense")
    for part in ("fig5a", "table1"):
        experiment = EXPERIMENTS[f"sensitivity-{part}"]
        assert "medium" in experiment.scales and len(experiment.scale("medium").why) > 60
        base = plan(EXPERIMENTS[part], "medium")
        mine = plan(experiment, "medium")
        assert len(mine) == 2 * len(base)
        assert experiment.scale("medium").points == EXPERIMENTS[part].scale("medium").points
        for label, job in base.items():
            assert mine[f"a=1, relu, fair | {label}"].id == job.id
            other = mine[f"a=1, relu, one recipe | {label}"]
            if job.config["graph"] == "locality":
                assert other.id != job.id
                assert {k: other.config[k] for k in common} == common
            else:
                assert other.id == job.id
        plan(experiment, "ci")


def test_the_mod_cog_recipe_sensitivity_runs_and_is_judged_by_the_base_rules(tmp_path):
    from lmrnn.experiments import reproduce
    from lmrnn.experiments.results import load

    sweep = reproduce("sensitivity-modcog", "ci", tmp_path, device="cpu", verbose=False)
    assert sweep.count("complete") == len(sweep.jobs)
    judged = rows(load(tmp_path))
    assert {(r.claim, r.variant) for r in judged} == {
        (claim, variant) for claim in ("C8", "C13")
        for variant in ("a=1, relu, fair", "a=1, relu, one recipe")
    }  # fmt: skip
    from lmrnn.experiments.report import write_report

    page = write_report(tmp_path).read_text()
    for part in ("fig5a", "table1"):  # each variant's verdicts and its networks' numbers
        assert f'id="verdicts-sensitivity-{part}"' in page
        assert f'id="table-sensitivity-{part}"' in page
    assert "a=1, relu, one recipe | LM(5x5, d=1)" in page


def test_the_readme_block_says_which_verdicts_depend_on_a_choice(tmp_path, monkeypatch):
    import lmrnn.experiments.publish as publish

    planted = _planted()
    same = _planted()
    for label in list(same.networks):  # the leaky variant planted like the default one
        if label.startswith("a=0.2"):
            twin = label.replace("a=0.2", "a=1", 1)
            same.networks[label] = _net(label, same.networks[twin].config["graph"],
                                        lambda s, t=same.networks[twin]: t.curve[s][0])  # fmt: skip
    monkeypatch.setattr(publish, "published", lambda root: [tmp_path / "docs" / "x"])
    for result, so in ((planted, "depends on the model choice"),
                       (same, "the same under every variant (2)")):  # fmt: skip
        monkeypatch.setattr(publish, "load", lambda folder, r=result: [r])
        table = publish.sensitivity_markdown(tmp_path / "docs", tmp_path)
        row = table.splitlines()[2]
        assert row.startswith("| C6 | **holds** | a=0.2, relu, fair: ")
        assert f"| {so} | [sensitivity-fig3i](docs/x/report.html) |" in row
    readme = tmp_path / "README.md"
    blocks = (publish.BEGIN, publish.END, publish.SENSITIVITY_BEGIN, publish.SENSITIVITY_END)
    readme.write_text("{}\nSTALE\n{}\nmid\n{}\nSTALE\n{}\n".format(*blocks))
    _, new = publish.readme_block(readme, tmp_path / "docs")
    assert "STALE" not in new and "| C6 | **holds** |" in new and "\nmid\n" in new


def test_verdicts_across_variants_are_summed_up_honestly():
    from lmrnn.experiments.sensitivity import across as _across

    assert _across("holds", ["holds"] * 3) == "the same under every variant (3)"
    assert _across("does not hold", ["does not hold", "inconclusive at this scale"]) == (
        "does not hold under every variant that decides it (1 of 2; the others inconclusive)"
    )
    assert _across("does not hold", ["does not hold", "not run at this scale"]) == (
        "does not hold under every variant that decides it (1 of 2; the others not run yet)"
    )
    mixed = ["holds", "not run at this scale", "inconclusive at this scale"]
    assert _across("holds", mixed).endswith("(1 of 3; the others inconclusive or not run yet "
                                            "(1 not run))")  # fmt: skip
    assert _across("holds", ["holds", "does not hold"]) == "depends on the model choice"
    assert _across("inconclusive at this scale", ["inconclusive at this scale", "holds"]) == (
        "depends on the model choice"
    )
