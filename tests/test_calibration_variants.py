"""Issue 13, parts 6-8: model variants compared by AIC/BIC, held-back validation rows, and writing
estimates back into (a copy of) the model files."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pybrainbone.build import compile_model
from pybrainbone.calibration import SyntheticProblem, build_likelihood, write_synthetic_problem
from pybrainbone.calibration.estimate import estimate
from pybrainbone.calibration.likelihood import CalibrationError
from pybrainbone.calibration.variants import (
    Variant,
    VariantError,
    VariantSet,
    apply_variant,
    compare_variants,
    load_variants,
)
from pybrainbone.calibration.write_back import apply_estimates, locate_parameter, plan_edits
from pybrainbone.cli import main
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.model_text import flat_parameter_records, read_module
from pybrainbone.paths import model_path
from pybrainbone.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]
VARIANTS = REPO / "experiments" / "variants" / "brain_bone_axis.yaml"

#: Synthetic "mechanisms" of the bone core: the data are simulated with the first; the others are rivals.
MECHANISMS = VariantSet(
    variants=[
        Variant(id="osteoclast_differentiation", changes={"f_OC_diff": 1.3}),
        Variant(id="none"),
        Variant(id="osteoclast_survival", changes={"f_OC_apop": 0.8}),
        Variant(id="less_formation", changes={"f_OB_diff": 0.85}),
    ]
)


def _problem(folder: Path, seed: int) -> SyntheticProblem:
    return write_synthetic_problem(folder, truth={"f_OC_diff": 1.3}, seed=seed)


# ---- 6. variants --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generating_variant_wins_at_nominal_values(tmp_path: Path, seed: int) -> None:
    problem = _problem(tmp_path, seed)
    comparison = compare_variants([load_experiment(problem.spec)], MECHANISMS, data=problem.data)
    table = comparison.table()
    assert comparison.best == "osteoclast_differentiation"
    assert table["delta_aic"].iloc[1] > 10 and table["akaike_weight"].iloc[0] > 0.99
    assert list(table["k"]) == [0, 0, 0, 0] and set(table["n"]) == {24}
    assert table["chi2_p_value"].iloc[0] > 0.001  # the generating variant fits its own data
    assert table["akaike_weight"].sum() == pytest.approx(1.0)


def test_generating_variant_wins_with_estimated_parameters(tmp_path: Path) -> None:
    problem = _problem(tmp_path, 4)
    variants = VariantSet(
        variants=[
            *MECHANISMS.variants[:3],
            Variant(id="differentiation_fitted", parameters=["f_OC_diff=0.5:3"]),
        ]
    )
    comparison = compare_variants(
        [load_experiment(problem.spec)], variants, ["kout_BMD"], data=problem.data, starts=1
    )
    table = comparison.table().set_index("variant")
    fits = {f.variant.id: f for f in comparison.fits}
    assert table["k"].to_dict() == {
        "osteoclast_differentiation": 1, "differentiation_fitted": 2, "none": 1, "osteoclast_survival": 1,
    }  # fmt: skip
    assert set(table.index[:2]) == {"osteoclast_differentiation", "differentiation_fitted"}
    assert table.loc[["none", "osteoclast_survival"], "delta_aic"].min() > 10
    assert fits["differentiation_fitted"].estimates["f_OC_diff"] == pytest.approx(1.3, rel=0.05)
    # nested: the extra parameter can only lower the NLL a little, and AIC charges 2 for it
    gap = table.loc["differentiation_fitted", "aic"] - table.loc["osteoclast_differentiation", "aic"]
    assert -2.5 < gap < 2.5


def test_variant_files_and_changes_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text("variants:\n  - {id: a, chnages: {k: 1}}\n")
    with pytest.raises(VariantError, match=r"v.yaml: variants.0.chnages: Extra inputs are not permitted"):
        load_variants(path)
    problem = write_synthetic_problem(tmp_path)
    spec = load_experiment(problem.spec)
    with pytest.raises(
        VariantError, match="variant x: unknown parameter 'D_OCpp' of bone_remodeling; did you mean D_OCp"
    ):
        compare_variants(
            [spec], VariantSet(variants=[Variant(id="x", changes={"D_OCpp": 1})]), data=problem.data
        )
    with pytest.raises(VariantError, match="changes P_PTH_ext, but arm"):
        apply_variant(spec, Variant(id="y", changes={"P_PTH_ext": 1}), ["P_PTH_ext"])
    fixed = VariantSet(variants=[Variant(id="z", changes={"D_OCp": 0.003})])
    with pytest.raises(VariantError, match="variant z fixes D_OCp, which is also estimated"):
        compare_variants([spec], fixed, ["D_OCp"], data=problem.data)
    with pytest.raises(
        VariantError, match=r"no variant 'fsh' \(variants: reference, .*\); did you mean fsh_direct"
    ):
        load_variants(VARIANTS).select(["fsh"])
    held = spec.model_copy(
        update={"measurements": [m.model_copy(update={"held_back": True}) for m in spec.measurements]}
    )
    with pytest.raises(VariantError, match=r"no measurements to compare the variants on: all 24 rows"):
        compare_variants([held], VariantSet(variants=[Variant(id="a")]), data=problem.data)


def test_shipped_variants_name_parameters_of_the_composed_model() -> None:
    variants = load_variants(VARIANTS)
    ids = set(flat_parameter_records(variants.model))  # the model files' parameters, without compiling
    for variant in variants.variants:
        assert set(variant.changes) <= ids, variant.id
        assert {p.partition("=")[0] for p in variant.parameters} <= ids, variant.id
    assert {"fsh_direct", "fsh_via_estradiol_only", "beta2_gate", "no_gate"} <= set(variants.ids)


def test_swan_spec_compares_the_fsh_and_gate_variants() -> None:
    spec = load_experiment(REPO / "experiments" / "menopause_swan_fit.yaml")
    variants = load_variants(VARIANTS).select(["reference", "fsh_direct", "no_gate"])
    table = compare_variants([spec], variants).table()
    assert sorted(table["variant"]) == ["fsh_direct", "no_gate", "reference"]
    assert set(table["n"]) == {4} and set(table["k"]) == {0}
    assert np.isfinite(table["aic"]).all() and table["delta_aic"].iloc[0] == 0
    # the variants move the model: their likelihoods differ
    assert table["log_likelihood"].nunique() == 3


@pytest.mark.slow_calibration
def test_swan_variants_with_the_hip_turnover_estimated() -> None:
    spec = load_experiment(REPO / "experiments" / "menopause_swan_fit.yaml")
    variants = load_variants(VARIANTS).select(["reference", "fsh_direct"])
    comparison = compare_variants([spec], variants, ["core_kout_BMD_hip"], starts=2)
    nominal = compare_variants([spec], variants).table().set_index("variant")
    fitted = comparison.table().set_index("variant")
    assert (fitted["nll"] < nominal.loc[fitted.index, "nll"]).all()
    assert (fitted["k"] == 1).all() and (fitted["n"] == 4).all()


def test_cli_compare_variants_writes_tables_with_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = _problem(tmp_path, 1)
    spec = load_experiment(problem.spec)
    held = spec.measurements[1].model_copy(update={"held_back": True})
    spec_path = tmp_path / "held.yaml"
    spec_path.write_text(spec.model_copy(update={"measurements": [spec.measurements[0], held]}).to_yaml())
    variants = tmp_path / "mechanisms.yaml"
    variants.write_text(
        "model: bone_remodeling\nvariants:\n"
        + "".join(f"  - {v.model_dump_json(exclude_defaults=True)}\n" for v in MECHANISMS.variants)
    )
    out = tmp_path / "out"
    args = [str(spec_path), "--data", str(problem.data), "--variants", str(variants), "-q", "-o", str(out)]
    assert main(["compare-variants", *args]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(
        "synthetic_pth: the data favour osteoclast_differentiation over "
    ), printed  # fmt: skip
    assert "delta AIC" in printed[0] and printed[1].startswith("wrote ")
    table = pd.read_csv(out / "synthetic_pth.variants.csv")
    assert list(table.columns[:10]) == ["rank", "variant", "log_likelihood", "k", "n", "aic", "bic",
                                        "delta_aic", "delta_bic", "akaike_weight"]  # fmt: skip
    assert set(table["n"]) == {12}  # the held-back BMD rows are not data for the comparison
    text = (out / "synthetic_pth.variants.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    summary = json.loads(text)
    assert summary["best"] == "osteoclast_differentiation" and summary["summary"] == printed[0]
    assert (
        summary["provenance"]["model"] == "bone_remodeling"
        and len(summary["provenance"]["variants_sha256"]) == 64
    )
    assert summary["held_back_datasets"] == ["synthetic_pth"]
    assert summary["fits"]["none"]["predictions_chi2"][0]["n"] == 12
    long = pd.read_csv(out / "synthetic_pth.variants.fit.csv")
    assert len(long) == 4 * 24 and long["held_back"].sum() == 4 * 12
    assert sorted(p.name for p in out.iterdir()) == [
        "synthetic_pth.variants.csv", "synthetic_pth.variants.fit.csv", "synthetic_pth.variants.json",
    ]  # fmt: skip


def test_interrupted_compare_variants_resumes_without_refitting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pybrainbone.calibration.variants as variants_module

    problem = _problem(tmp_path, 2)
    variants = tmp_path / "mechanisms.yaml"
    variants.write_text(
        "model: bone_remodeling\nvariants:\n"
        + "".join(f"  - {v.model_dump_json(exclude_defaults=True)}\n" for v in MECHANISMS.variants)
    )
    base = [str(problem.spec), "--data", str(problem.data), "--variants", str(variants),
            "--parameters", "kout_BMD", "--starts", "1", "--max-evaluations", "20", "-q"]  # fmt: skip
    assert main(["compare-variants", *base, "-o", str(tmp_path / "whole")]) == 0

    fitted: list[str] = []
    real = variants_module._fit_variant

    def interrupted_after_two(likelihood, variant, *args):  # type: ignore[no-untyped-def]
        if len(fitted) == 2:
            raise KeyboardInterrupt
        fitted.append(variant.id)
        return real(likelihood, variant, *args)

    out = tmp_path / "resumed"
    monkeypatch.setattr(variants_module, "_fit_variant", interrupted_after_two)
    capsys.readouterr()
    assert main(["compare-variants", *base, "-o", str(out)]) == 130
    partial = out / "synthetic_pth.variants.partial.jsonl"
    assert f"interrupted: the variants fitted so far are kept in {partial}" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == [partial.name]  # no outputs, the two fits kept
    assert len(partial.read_text(encoding="utf-8").splitlines()) == 3  # header + two variants
    assert main(["compare-variants", *base, "-o", str(out)]) == 2
    assert "add --resume to continue" in capsys.readouterr().err
    changed = tmp_path / "other.yaml"
    changed.write_text(variants.read_text().replace("1.3", "1.25"))
    other = [a if a != str(variants) else str(changed) for a in base]
    assert main(["compare-variants", *other, "-o", str(out), "--resume"]) == 2
    assert "holds partial results of another analysis" in capsys.readouterr().err
    assert partial.exists()  # a refused resume loses nothing

    fitted.clear()
    monkeypatch.setattr(
        variants_module, "_fit_variant", lambda lk, v, *a: fitted.append(v.id) or real(lk, v, *a)
    )
    capsys.readouterr()
    assert main(["compare-variants", *base, "-o", str(out), "--resume"]) == 0
    assert fitted == ["osteoclast_survival", "less_formation"]  # only the two left
    assert not partial.exists()
    whole = pd.read_csv(tmp_path / "whole" / "synthetic_pth.variants.csv")
    resumed = pd.read_csv(out / "synthetic_pth.variants.csv")
    assert list(resumed["variant"]) == list(whole["variant"])
    pd.testing.assert_frame_equal(
        resumed.drop(columns=["estimates"]), whole.drop(columns=["estimates"]), rtol=1e-9
    )
    long_whole = pd.read_csv(tmp_path / "whole" / "synthetic_pth.variants.fit.csv")
    long_resumed = pd.read_csv(out / "synthetic_pth.variants.fit.csv")
    pd.testing.assert_frame_equal(long_resumed, long_whole, rtol=1e-9)


# ---- 7. held-back rows ----------------------------------------------------------------------------------
def test_held_back_rows_do_not_change_the_objective_and_are_predicted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = write_synthetic_problem(tmp_path)
    spec = load_experiment(problem.spec)
    ctx, bmd = spec.measurements
    held = spec.model_copy(update={"measurements": [ctx, bmd.model_copy(update={"held_back": True})]})
    without = spec.model_copy(update={"measurements": [ctx]})
    parameters = ["D_OCp", "kout_BMD"]
    with_held, only_ctx, both = (
        build_likelihood([s], parameters, data=problem.data) for s in (held, without, spec)
    )
    sim = Simulator("bone_remodeling")
    for x in (with_held.nominal(), np.log10([0.00315, 0.004764]), np.array([-2.4, -2.2])):
        assert with_held.nll(sim, x) == only_ctx.nll(sim, x) != both.nll(sim, x)
    assert [o.observable for o in with_held.predictions] == ["BMD_lumbar_spine"] * 12
    assert all(o.held_back for o in with_held.predictions) and not any(
        o.held_back for o in with_held.observations
    )

    path = tmp_path / "held.yaml"
    path.write_text(held.to_yaml())
    assert main(["fit-report", str(path), "--data", str(problem.data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["observable"] for r in report["rows"]} == {"CTX"} and report["chi2"][0]["n"] == 12
    assert len(report["predictions"]) == 12 and {r["observable"] for r in report["predictions"]} == {
        "BMD_lumbar_spine"
    }  # fmt: skip
    row = report["predictions"][0]
    assert row["inside_ci"] == (row["ci_low"] <= row["model"] <= row["ci_high"])
    assert row["residual"] == pytest.approx((row["model"] - row["mean"]) / row["sigma"])
    (chi2,) = report["predictions_chi2"]
    assert chi2["n"] == 12 and chi2["chi2"] == pytest.approx(
        sum(r["residual"] ** 2 for r in report["predictions"])
    )
    assert main(["fit-report", str(path), "--data", str(problem.data)]) == 0
    assert "held back, not fitted: predictions (nominal parameters):" in capsys.readouterr().out


def test_a_held_back_study_is_never_fitted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problem = write_synthetic_problem(tmp_path)
    studies = problem.data / "studies.yaml"
    studies.write_text(
        studies.read_text(encoding="utf-8").replace(
            "  organism: human\n", "  organism: human\n  held_back: true\n"
        )
    )
    likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    assert not likelihood.observations and len(likelihood.predictions) == 24
    with pytest.raises(CalibrationError, match="no measurements to fit: every linked row is held back"):
        estimate(likelihood, starts=1)
    studies.write_text(studies.read_text(encoding="utf-8").replace("held_back: true", "held_back: maybe"))
    assert main(["fit-report", str(problem.spec), "--data", str(problem.data)]) == 2
    assert "'held_back' must be true or false" in capsys.readouterr().err


def test_calibrate_writes_predictions_at_the_estimates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = write_synthetic_problem(tmp_path)
    spec = load_experiment(problem.spec)
    ctx, bmd = spec.measurements
    path = tmp_path / "held.yaml"
    path.write_text(
        spec.model_copy(update={"measurements": [ctx, bmd.model_copy(update={"held_back": True})]}).to_yaml()
    )
    out = tmp_path / "out"
    args = [
        str(path),
        "--data",
        str(problem.data),
        "--parameters",
        "D_OCp",
        "--starts",
        "1",
        "-q",
        "-o",
        str(out),
    ]
    assert main(["calibrate", *args]) == 0
    summary = json.loads((out / "synthetic_pth.calibration.json").read_text(encoding="utf-8"))
    assert summary["datasets"] == ["synthetic_pth"] and summary["held_back_datasets"] == ["synthetic_pth"]
    assert summary["chi2"][0]["n"] == 12 and summary["predictions_chi2"][0]["n"] == 12
    predictions = pd.read_csv(out / "synthetic_pth.predictions.csv")
    assert len(predictions) == 12 and set(predictions["observable"]) == {"BMD_lumbar_spine"}
    capsys.readouterr()
    report = [
        "fit-report",
        str(path),
        "--data",
        str(problem.data),
        "--estimates",
        str(out / "synthetic_pth.calibration.json"),
    ]
    assert main([*report, "--json"]) == 0
    at_estimate = json.loads(capsys.readouterr().out)
    assert at_estimate["predictions"][0]["model"] == pytest.approx(predictions["model"][0], rel=1e-6)


def test_shipped_rat_ovx_spec_is_a_prediction_only(capsys: pytest.CaptureFixture[str]) -> None:
    spec = REPO / "experiments" / "ovx_rat_wronski_fit.yaml"
    assert main(["fit-report", str(spec), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == [] and len(report["predictions"]) == 1
    (row,) = report["predictions"]
    assert row["dataset"] == "wronski1985_ovx" and row["time_day"] == 35 and 0 < row["model"] < 1


# ---- 8. write-back --------------------------------------------------------------------------------------
@pytest.fixture
def model_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of bone_remodeling.ant in its own model directory, which the package then uses."""
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copy(model_path("bone_remodeling"), folder)
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(folder))
    return folder / "bone_remodeling.ant"


def test_calibrate_write_back_edits_only_the_estimated_lines_of_a_copy(
    model_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = model_path("bone_remodeling", REPO / "models").read_text(encoding="utf-8")
    before = model_copy.read_text(encoding="utf-8").splitlines()
    problem = write_synthetic_problem(tmp_path)
    out = tmp_path / "out"
    args = [str(problem.spec), "--data", str(problem.data), "--parameters", "D_OCp", "kout_BMD",
            "--starts", "1", "-q", "-o", str(out), "--write-back"]  # fmt: skip
    assert main(["calibrate", *args]) == 0
    printed = capsys.readouterr().out
    assert "wrote back 2 estimate(s):" in printed
    after = model_copy.read_text(encoding="utf-8").splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(after) == len(before) and len(changed) == 2
    records = read_module("bone_remodeling", model_copy.parent).parameters
    summary = json.loads((out / "synthetic_pth.calibration.json").read_text(encoding="utf-8"))
    for name in ("D_OCp", "kout_BMD"):
        record = records[name]
        assert record.line - 1 in changed
        line = after[record.line - 1]
        interval = next(p for p in summary["profiles"] if p["parameter"] == name)
        assert record.source == (
            f"Estimated: synthetic_pth, 95 % CI [{interval['ci_low']:.3g}, {interval['ci_high']:.3g}] "
            "(profile likelihood)"
        )
        old = before[record.line - 1]
        assert line.split("//")[0].split()[3] == old.split("//")[0].split()[3]  # the unit is kept
        assert record.description and record.description in old  # and the description
    assert records["D_OCp"].description == "OCp -> OCa differentiation rate"
    values = Simulator(compile_model("bone_remodeling", model_copy.parent)).parameters()["value"]
    for name, value in summary["estimates"].items():
        assert values[name] == pytest.approx(value, rel=1e-3)  # written with 4 significant digits
    # the model has changed since the calibration, so writing back again is refused
    with pytest.raises(CalibrationError, match="are not the ones calibrated"):
        apply_estimates(out, model_copy.parent)
    assert model_path("bone_remodeling", REPO / "models").read_text(encoding="utf-8") == real


def _summary(name: str) -> dict:
    interval = {"parameter": name, "ci_low": 1.5, "ci_high": 2.5, "status": "identifiable"}
    return {
        "estimates": {name: 2.0},
        "datasets": ["s1"],
        "provenance": {"model": "tissue"},
        "profiles": [interval],
    }


def test_write_back_refuses_lines_it_cannot_edit_safely(tmp_path: Path) -> None:
    (tmp_path / "cell.ant").write_text(
        "model cell()\n  k = 1 per_day  // turnover. Source: A 2001\n  r = 2 per_day; s = 3 per_day\n"
        "  q := 2 * k\n  d = 1 per_day\n  d = 2 per_day\n  e = k * 2\nend\n"
    )
    (tmp_path / "tissue.ant").write_text(
        'import "cell.ant"\nmodel tissue()\n  A: cell()\n  B: cell()\n  C: cell()\n'
        "  B.k = 4 per_day  // B only. Assumed: x\nend\n"
    )
    with pytest.raises(CalibrationError, match=r"cell.ant sets k for every instance of cell \(A, C\)"):
        plan_edits(_summary("A_k"), tmp_path, force=True)
    found = locate_parameter("tissue", "B_k", tmp_path)  # overridden in the composition: that line
    assert found.path.name == "tissue.ant" and found.name == "B.k"
    (edit,) = plan_edits(_summary("B_k"), tmp_path, force=True)
    assert edit.new == "  B.k = 2 per_day  // B only. Estimated: s1, 95 % CI [1.5, 2.5] (profile likelihood)"
    for name, message in [
        ("A_r", "holds other statements too"),
        ("A_q", "no line of tissue's model files sets it"),
        ("A_d", r"set on several lines \(cell.ant:5, cell.ant:6\)"),
        ("A_e", "does not set it to a plain number with a unit"),
        ("A_nope", "no line of tissue's model files sets it"),
    ]:
        with pytest.raises(CalibrationError, match=message):
            locate_parameter("tissue", name, tmp_path)
    open_profile = _summary("B_k")
    open_profile["profiles"][0]["status"] = "practically non-identifiable (upper side open)"
    with pytest.raises(CalibrationError, match="the data do not bound it"):
        plan_edits(open_profile, tmp_path, force=True)
    (edit,) = plan_edits(open_profile, tmp_path, force=True, allow_open=True)
    assert edit.new.endswith("(profile likelihood; upper side open at the search bound)")
    assert "B.k = 4 per_day" in (tmp_path / "tissue.ant").read_text(
        encoding="utf-8"
    )  # planning writes nothing


def test_apply_estimates_cli_dry_run_and_write(model_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = model_copy.parent.parent / "fit.calibration.json"
    interval = {"parameter": "A_OCa", "ci_low": 0.6, "ci_high": 0.8, "status": "identifiable"}
    summary = {"estimates": {"A_OCa": 0.71234}, "datasets": ["s1", "s2"],
               "provenance": {"model": "bone_remodeling"}, "profiles": [interval]}  # fmt: skip
    result.write_text(json.dumps(summary))
    before = model_copy.read_text(encoding="utf-8")
    assert main(["apply-estimates", str(result), "--dry-run", "--force"]) == 0
    assert (
        "would write back 1 estimate(s):" in capsys.readouterr().out
        and model_copy.read_text(encoding="utf-8") == before
    )
    assert (
        main(["apply-estimates", str(result)]) == 2
    )  # no model hash in the provenance: not the calibrated model
    assert "are not the ones calibrated" in capsys.readouterr().err
    assert main(["apply-estimates", str(result), "--force"]) == 0
    line = next(
        x for x in model_copy.read_text(encoding="utf-8").splitlines() if x.lstrip().startswith("A_OCa =")
    )
    assert line.split("//")[0].split()[:4] == ["A_OCa", "=", "0.7123", "per_day"]
    assert line.endswith("Estimated: s1, s2, 95 % CI [0.6, 0.8] (profile likelihood)")
    assert math.isclose(Simulator(compile_model("bone_remodeling")).parameters()["value"]["A_OCa"], 0.7123)
