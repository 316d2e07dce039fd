"""Calibration with uncertainty (issue 13): dataset loader, spec links, likelihood, estimation, profiles,
PEtab export checked by petab's lint and by pyPESTO's libRoadRunner objective."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from pybrainbone.calibration import build_likelihood, write_synthetic_problem
from pybrainbone.calibration.estimate import estimate
from pybrainbone.calibration.likelihood import CalibrationError, parse_parameters
from pybrainbone.calibration.petab_export import export_petab, quiet_petab
from pybrainbone.calibration.profiles import (
    grid_profiles,
    likelihood_grid,
    profile,
    profile_table,
    with_grid_best,
)
from pybrainbone.cli import main
from pybrainbone.errors import InvalidValueError
from pybrainbone.experiments.spec import SpecError, experiment_from_data, load_experiment
from pybrainbone.measurements import COLUMNS, OBSERVABLES, MeasurementError, data_dir, load_datasets
from pybrainbone.sensitivity.checkpoint import Checkpoint
from pybrainbone.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]


# ---- 1. the dataset ------------------------------------------------------------------------------------
def test_shipped_data_loads_and_every_row_has_a_source_location() -> None:
    datasets = load_datasets()
    rows = [m for d in datasets.values() for m in d.measurements]
    assert len(datasets) >= 20 and len(rows) >= 100
    assert all(m.location and m.unit and m.condition in datasets[m.study].study.arms for m in rows)


def test_controlled_observables_are_the_documented_list() -> None:
    readme = (data_dir() / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Controlled observables", 1)[1].split("###", 1)[0]
    documented = re.findall(r"`([A-Za-z0-9_]+)`", section.split("are reserved")[0])
    assert sorted(set(documented)) == sorted(OBSERVABLES)


GOOD_ROW = "CTX,human,a,6,month,-40,5,SD,25,percent_change_from_baseline,Table 2,reported,ok"


def _dataset(tmp: Path, row: str) -> Path:
    (tmp / "measurements").mkdir(parents=True, exist_ok=True)
    (tmp / "studies.yaml").write_text("s1: {citation: A 2001, organism: human, arms: {a: treated}}\n")
    (tmp / "measurements" / "s1.csv").write_text(",".join(COLUMNS) + "\n" + GOOD_ROW + "\n" + row + "\n")
    return tmp


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("CTX,human,a,6,month,-40,5,SD,25,,Table 2,reported,", "no unit"),
        (
            "CTXX,human,a,6,month,-40,5,SD,25,percent,Table 2,reported,",
            "unknown observable 'CTXX'; did you mean CTX",
        ),
        ("CTX,human,a,6,month,-40,0,SD,25,percent,Table 2,reported,", "SD must be positive, got 0"),
        ("CTX,human,a,6,month,-40,-1,SE,25,percent,Table 2,reported,", "SE must be positive, got -1"),
        (
            "CTX,human,a,6,month,-40,-41,CI95_low_high,,percent,Table 2,reported,",
            "a 95% CI is written 'low;high'",
        ),
        ("CTX,human,a,6,month,-40,-39;-41,CI95_low_high,,percent,Table 2,reported,", "must be below high"),
        (
            "CTX,human,b,6,month,-40,5,SD,25,percent,Table 2,reported,",
            "condition 'b' is not an arm of study 's1'",
        ),
        ("CTX,human,a,6,month,forty,5,SD,25,percent,Table 2,reported,", "mean 'forty' is not a number"),
        ("CTX,human,a,6,month,-40,5,SD,25,percent,,reported,", "no location"),
    ],
)
def test_bad_measurement_rows_give_one_line_naming_file_and_row(
    tmp_path: Path, row: str, message: str
) -> None:
    with pytest.raises(MeasurementError) as info:
        load_datasets(_dataset(tmp_path, row))
    text = str(info.value)
    assert "\n" not in text and message in text
    assert text.startswith(f"{tmp_path / 'measurements' / 's1.csv'}:3: ")


def test_bounds_excluding_the_nominal_value_name_the_parameter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(
        CalibrationError, match=r"^parameter A_OCa: bounds \[1, 5\] exclude its nominal value 0.7$"
    ):
        parse_parameters(["A_OCa=1:5"], {"A_OCa": 0.7})
    problem = write_synthetic_problem(tmp_path)
    status = main(["calibrate", str(problem.spec), "--data", str(problem.data),
                   "--parameters", "D_OCp=0.01:0.1", "-o", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "parameter D_OCp: bounds [0.01, 0.1] exclude its nominal value 0.0021" in err
    assert not (tmp_path / "out").exists()


# ---- 2. spec links ---------------------------------------------------------------------------------------
def test_spec_links_are_checked_and_old_specs_still_validate() -> None:
    spec = load_experiment(REPO / "experiments" / "denosumab_freedom_fit.yaml")
    assert [m.condition for m in spec.measurements] == ["placebo", "dmab60_q6m"]
    data = {
        **spec.model_dump(mode="json"),
        "measurements": [{**spec.measurements[0].model_dump(), "data_generator": "nope"}],
    }
    with pytest.raises(SpecError, match="measurements: unknown data_generator 'nope'"):
        experiment_from_data(data, "fit.yaml")
    assert load_experiment(REPO / "experiments" / "denosumab.yaml").measurements == []


def test_fit_report_on_freedom(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit-report", str(REPO / "experiments" / "denosumab_freedom_fit.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["time_day"] for r in report["rows"]] == pytest.approx([4017.75, 4383, 4748.25] * 2)
    assert [round(r["sigma"], 4) for r in report["rows"]][:1] == [0.051]  # 95% CI +-0.1 -> SE 0.1/1.96
    (row,) = report["chi2"]
    assert row["dataset"] == "freedom_austin2012" and row["n"] == 6 and row["chi2"] > 0


def test_unusable_links_are_refused(tmp_path: Path) -> None:
    problem = write_synthetic_problem(tmp_path)
    spec = load_experiment(problem.spec)
    moved = spec.model_copy(
        update={"measurements": [spec.measurements[0].model_copy(update={"time_offset": 10.0})]}
    )
    with pytest.raises(CalibrationError, match="is not on the output grid"):
        build_likelihood([moved], data=problem.data)
    other = spec.model_copy(
        update={"measurements": [spec.measurements[0].model_copy(update={"condition": "sham"})]}
    )
    with pytest.raises(CalibrationError, match="condition 'sham' is not an arm of study 'synthetic_pth'"):
        build_likelihood([other], data=problem.data)
    with pytest.raises(CalibrationError, match="cannot estimate P_PTH_ext"):
        build_likelihood([spec], ["P_PTH_ext=1:1000"], data=problem.data)


# ---- 4-5. estimation and uncertainty ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    folder = tmp_path_factory.mktemp("synthetic")
    problem = write_synthetic_problem(folder, seed=1)
    likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp", "kout_BMD"], data=problem.data)
    return problem, likelihood


def test_synthetic_recovery_within_profile_intervals(synthetic: tuple) -> None:
    problem, likelihood = synthetic
    fit = estimate(likelihood, starts=3, seed=5)
    table = profile_table(profile(likelihood, fit), problem.truth)
    assert list(table["status"]) == ["identifiable", "identifiable"]
    assert table["truth_inside"].all(), table.to_string()
    assert np.all(fit.rows[:, 2] > 0)  # every start converged
    assert np.ptp(fit.fvals) < 1e-3  # to the same optimum


def test_grid_profiles_agree_with_pypesto_and_contain_the_truth(synthetic: tuple) -> None:
    """The likelihood-grid profiles (``calibrate --profile-grid``): the best grid point starts the fit, the
    truth lies inside both intervals, and each interval matches pyPESTO's within about one grid step."""
    problem, likelihood = synthetic
    grid = likelihood_grid(likelihood, 7)
    fit = estimate(likelihood, starts=1, first=grid.best())
    assert np.allclose(fit.starts[0], grid.best())
    fine = likelihood_grid(
        likelihood, 7, around=fit.x, zoom=3
    )  # the last level's step: 1/3**3 of the first's
    lower, upper = likelihood.bounds()
    step = (upper - lower) / 6 / 3**3
    assert len(fine.nll) == 3 * 7**2 and np.all(np.abs(fine.best() - fit.x) <= step)
    grid = grid.merged(fine)
    fit = with_grid_best(fit, grid)
    on_grid = profile_table(grid_profiles(grid, fit), problem.truth)
    exact = profile_table(profile(likelihood, fit), problem.truth)
    assert on_grid["truth_inside"].all(), on_grid.to_string()
    assert list(on_grid["status"]) == ["identifiable", "identifiable"]
    for column in ("log10_ci_low", "log10_ci_high"):
        assert np.all(np.abs(on_grid[column] - exact[column]) <= step), (on_grid, exact)
    with pytest.raises(InvalidValueError, match="at most 3 parameters"):
        likelihood_grid(dataclasses.replace(likelihood, parameters=likelihood.parameters * 2), 3)


def test_starts_resume_from_the_partial_results(synthetic: tuple, tmp_path: Path) -> None:
    _, likelihood = synthetic
    path = tmp_path / "fit.calibration.partial.jsonl"
    first = Checkpoint(path)
    done = estimate(likelihood, starts=2, seed=3, checkpoint=first)
    first.close()
    resumed = Checkpoint(path, resume=True)
    again = estimate(likelihood, starts=2, seed=3, checkpoint=resumed)
    resumed.close()
    assert again.extra["resumed_starts"] == 2 and np.array_equal(again.rows, done.rows)


def test_petab_export_lints_and_pypesto_roadrunner_gives_our_objective(
    synthetic: tuple, tmp_path: Path
) -> None:
    import petab.v1 as petab
    import pypesto.petab
    from pypesto.objective.roadrunner import SolverOptions

    _, likelihood = synthetic
    problem_yaml = export_petab(likelihood, tmp_path / "petab")  # raises if petab's lint finds errors
    with quiet_petab():
        problem = petab.Problem.from_yaml(problem_yaml)
        assert not petab.lint_problem(problem)
        importer = pypesto.petab.PetabImporter(problem, simulator_type="roadrunner")
        objective = importer.create_objective_creator(simulator_type="roadrunner").create_objective()
        objective.solver_options = SolverOptions(relative_tolerance=1e-9, absolute_tolerance=1e-15)
        assert list(objective.x_names) == list(likelihood.names)
        sim = Simulator(likelihood.model)
        for x in (likelihood.nominal(), np.log10([0.00315, 0.004764]), np.array([-2.3, -2.1])):
            assert objective(x) == pytest.approx(likelihood.nll(sim, x), rel=1e-6)


def test_cli_calibrate_and_export(
    synthetic: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, _ = synthetic
    out = tmp_path / "out"
    args = [str(problem.spec), "--data", str(problem.data), "--parameters", "D_OCp", "kout_BMD",
            "--starts", "2", "-q", "-o", str(out)]  # fmt: skip
    assert main(["calibrate", *args]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"D_OCp = 0\.003\d* \(95% CI 0\.003\d* \.\. 0\.003\d*, identifiable\)", printed), printed
    assert sorted(p.name for p in out.iterdir()) == [
        "synthetic_pth.calibration.json", "synthetic_pth.fit.csv", "synthetic_pth.profiles.csv",
        "synthetic_pth.profiles.png", "synthetic_pth.pypesto.hdf5", "synthetic_pth.starts.csv",
    ]  # fmt: skip
    summary = json.loads((out / "synthetic_pth.calibration.json").read_text(encoding="utf-8"))
    assert summary["chi2"][0]["n"] == 24 and len(summary["profiles"]) == 2
    assert main(["export", "petab", str(problem.spec), "--data", str(problem.data), "--parameters", "D_OCp",
                 "-o", str(tmp_path / "petab")]) == 0  # fmt: skip
    assert (tmp_path / "petab" / "problem.yaml").is_file()
    # The same with grid profiles: the estimate lies inside its intervals, which hold the truth.
    gridded = tmp_path / "grid"
    args = [*args[:-1], str(gridded), "--profile-grid", "7", "--grid-zoom", "3", "--starts", "1"]
    assert main(["calibrate", *args]) == 0
    summary = json.loads((gridded / "synthetic_pth.calibration.json").read_text(encoding="utf-8"))
    for row in summary["profiles"]:
        assert row["ci_low"] <= row["estimate"] <= row["ci_high"], row
        assert row["ci_low"] <= problem.truth[row["parameter"]] <= row["ci_high"], row
    assert main(["calibrate", *args, "--no-profile"]) == 2
    assert "contradict" in capsys.readouterr().err


def test_interrupted_calibrate_names_its_partial_file_and_resumes(
    synthetic: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after one start: exit 130, the message names the partial file, and --resume runs only the
    start left."""
    from pybrainbone.calibration import estimate as estimate_module

    problem, _ = synthetic
    out = tmp_path / "out"
    args = [str(problem.spec), "--data", str(problem.data), "--parameters", "D_OCp",
            "--starts", "2", "--no-profile", "-q", "-o", str(out)]  # fmt: skip
    real = estimate_module.MultiStart.evaluate
    ran: list[int] = []

    def interrupted_after_one(self, simulator, values):  # type: ignore[no-untyped-def]
        if len(ran) == 1:
            raise KeyboardInterrupt
        ran.append(1)
        return real(self, simulator, values)

    monkeypatch.setattr(estimate_module.MultiStart, "evaluate", interrupted_after_one)
    capsys.readouterr()
    assert main(["calibrate", *args]) == 130
    partial = out / "synthetic_pth.calibration.partial.jsonl"
    err = capsys.readouterr().err
    assert f"the finished starts are kept in {partial}: run the same command with --resume" in err, err
    assert [p.name for p in out.iterdir()] == [partial.name]
    ran.clear()
    monkeypatch.setattr(
        estimate_module.MultiStart, "evaluate", lambda self, sim, v: ran.append(1) or real(self, sim, v)
    )
    assert main(["calibrate", *args, "--resume"]) == 0
    assert len(ran) == 1  # only the start that had not finished
    assert not partial.exists()


@pytest.mark.slow_calibration
def test_freedom_calibration_of_denosumab_accessibility(tmp_path: Path) -> None:
    spec = load_experiment(REPO / "experiments" / "denosumab_freedom_fit.yaml")
    likelihood = build_likelihood([spec], ["Dmab_chi_dmab=0.1:10"])
    fit = estimate(likelihood, starts=2)
    assert fit.fvals[fit.best] < likelihood.nll(Simulator(likelihood.model), likelihood.nominal())
