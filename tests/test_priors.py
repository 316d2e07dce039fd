"""Literature priors in calibration (issue 13, "priors from the literature ranges in the reference sheets").

The shipped ``data/priors.yaml`` names real parameters in their model units; bad prior files are refused
with the file and the entry; a prior adds exactly its normal log density on the log10 scale; pyPESTO,
importing the exported PEtab problem with its ``parameterScaleNormal`` priors, computes the same objective
(rtol 1e-6); a tight prior pulls the estimate towards itself; ``--no-priors`` turns them off.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from pybrainbone.calibration import build_likelihood, write_synthetic_problem
from pybrainbone.calibration.estimate import estimate
from pybrainbone.calibration.likelihood import CalibrationError
from pybrainbone.calibration.petab_export import export_petab, quiet_petab
from pybrainbone.calibration.priors import PRIORS_FILE, Prior, PriorError, load_priors
from pybrainbone.cli import main
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.measurements import data_dir
from pybrainbone.simulator import Simulator

SHIPPED = load_priors(data_dir() / PRIORS_FILE)


def test_the_project_ships_priors() -> None:
    assert SHIPPED, "data/priors.yaml holds the literature priors"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_prior_names_a_parameter_in_its_model_unit(name: str) -> None:
    axis = Simulator("brain_bone_axis")
    prior = SHIPPED[name]
    assert name in axis.parameter_ids
    assert axis.units[name] == prior.unit
    assert prior.source.split()[0] not in {"TODO", "?"}
    value = float(axis.parameters().loc[name, "value"])
    assert prior.low < value < prior.high, "the shipped value lies inside its literature range"


def test_a_prior_is_a_normal_density_on_the_log10_scale() -> None:
    prior = Prior("k", 0.01, 1.0, "per_day", "Assumed: test")
    assert prior.mean == pytest.approx(-1.0)
    assert prior.sd == pytest.approx(1.0 / 1.959963984540054)
    # the range's ends are the central 95 % interval: 1.96 sd from the mean
    assert prior.nll(0.0) - prior.nll(-1.0) == pytest.approx(0.5 * 1.959963984540054**2)
    assert prior.nll(-1.0) == pytest.approx(0.5 * math.log(2 * math.pi * prior.sd**2))


BAD = {
    "not a mapping": ("- spine_rho\n", "expected a mapping"),
    "entry": ("k: 3\n", "k: expected a mapping with range, unit and source"),
    "missing source": ("k: {range: [1, 2], unit: per_day}\n", "k: missing source"),
    "unknown key": ("k: {range: [1, 2], unit: per_day, source: Smith 2001, sd: 3}\n", "unknown keys ['sd']"),
    "one number": ("k: {range: [1], unit: per_day, source: Smith 2001}\n", "range must be [low, high]"),
    "text": ("k: {range: [a, 2], unit: per_day, source: Smith 2001}\n", "range must be [low, high]"),
    "reversed": ("k: {range: [2, 1], unit: per_day, source: Smith 2001}\n", "0 < low < high"),
    "zero": ("k: {range: [0, 1], unit: per_day, source: Smith 2001}\n", "0 < low < high"),
    "empty source": ("k: {range: [1, 2], unit: per_day, source: ''}\n", "give its source"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_prior_files_name_the_file_and_entry(case: str, tmp_path: Path) -> None:
    text, message = BAD[case]
    path = tmp_path / PRIORS_FILE
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PriorError) as info:
        load_priors(path)
    assert str(info.value).startswith(str(path)), str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return write_synthetic_problem(tmp_path_factory.mktemp("priors"), seed=1)


def _priors(problem, text: str) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the synthetic dataset directory with ``text`` as its priors file."""
    folder = Path(problem.data).parent / f"data_{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    if not folder.exists():
        shutil.copytree(problem.data, folder)
    (folder / PRIORS_FILE).write_text(text, encoding="utf-8")
    return folder


PRIORS = (
    "D_OCp: {range: [0.001, 0.01], unit: per_day, source: 'Assumed: test'}\n"
    "kout_BMD: {range: [0.003, 0.03], unit: per_day, source: 'Assumed: test'}\n"
)


def test_a_prior_adds_its_density_to_the_objective(problem) -> None:  # type: ignore[no-untyped-def]
    spec = [load_experiment(problem.spec)]
    plain = build_likelihood(spec, ["D_OCp", "kout_BMD"], data=problem.data)
    data = _priors(problem, PRIORS)
    with_priors = build_likelihood(spec, ["D_OCp", "kout_BMD"], data=data)
    assert [p.prior for p in plain.parameters] == [None, None]
    assert build_likelihood(spec, ["D_OCp"], data=data, priors={}).parameters[0].prior is None
    sim = Simulator(plain.model)
    x = np.log10([0.0031, 0.0048])
    expected = sum(p.prior.nll(v) for p, v in zip(with_priors.parameters, x, strict=True))  # type: ignore[union-attr]
    assert with_priors.nll(sim, x) - plain.nll(sim, x) == pytest.approx(expected, rel=1e-12)


def test_pypesto_computes_the_same_posterior_from_the_petab_export(problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import petab.v1 as petab
    import pypesto.petab
    from pypesto.objective.roadrunner import SolverOptions

    likelihood = build_likelihood(
        [load_experiment(problem.spec)], ["D_OCp", "kout_BMD"], data=_priors(problem, PRIORS)
    )
    problem_yaml = export_petab(likelihood, tmp_path / "petab")
    with quiet_petab():
        petab_problem = petab.Problem.from_yaml(problem_yaml)
        assert not petab.lint_problem(petab_problem)
        assert set(petab_problem.parameter_df["objectivePriorType"]) == {"parameterScaleNormal"}
        importer = pypesto.petab.PetabImporter(petab_problem, simulator_type="roadrunner")
        creator = importer.create_objective_creator(simulator_type="roadrunner")
        objective = creator.create_objective()
        objective.solver_options = SolverOptions(relative_tolerance=1e-9, absolute_tolerance=1e-15)
        pypesto_problem = importer.create_problem(objective=objective)
        sim = Simulator(likelihood.model)
        for x in (likelihood.nominal(), np.log10([0.00315, 0.004764]), np.array([-2.3, -2.1])):
            assert pypesto_problem.objective(x) == pytest.approx(likelihood.nll(sim, x), rel=1e-6)


def test_a_tight_prior_pulls_the_estimate(problem) -> None:  # type: ignore[no-untyped-def]
    spec = [load_experiment(problem.spec)]
    free = estimate(build_likelihood(spec, ["D_OCp=1e-4:0.1"], data=problem.data), starts=1, seed=2)
    tight = "D_OCp: {range: [0.0009, 0.0011], unit: per_day, source: 'Assumed: test'}\n"
    pulled = estimate(
        build_likelihood(spec, ["D_OCp=1e-4:0.1"], data=_priors(problem, tight)), starts=1, seed=2
    )
    data_says, prior_says = free.estimates()["D_OCp"], 0.001
    assert prior_says < pulled.estimates()["D_OCp"] < data_says
    assert abs(math.log10(pulled.estimates()["D_OCp"] / data_says)) > 0.01


def test_a_prior_outside_the_bounds_is_refused(problem) -> None:  # type: ignore[no-untyped-def]
    far = "D_OCp: {range: [0.5, 0.9], unit: per_day, source: 'Assumed: test'}\n"
    with pytest.raises(CalibrationError, match=r"prior's range \[0.5, 0.9\] lies outside the bounds"):
        build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=_priors(problem, far))


def test_cli_reports_the_priors_and_no_priors_turns_them_off(
    problem,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    data = str(_priors(problem, PRIORS))
    common = [str(problem.spec), "--data", data, "--parameters", "D_OCp", "--starts", "1", "--no-profile",
              "-q"]  # fmt: skip
    assert main(["calibrate", *common, "-o", str(tmp_path / "with")]) == 0
    assert "priors: D_OCp (prior 95 % range 0.001-0.01 per_day (Assumed: test))" in capsys.readouterr().out
    assert main(["calibrate", *common, "--no-priors", "-o", str(tmp_path / "without")]) == 0
    assert "priors:" not in capsys.readouterr().out
    summary = {
        name: json.loads((tmp_path / name / "synthetic_pth.calibration.json").read_text(encoding="utf-8"))
        for name in ("with", "without")
    }
    assert list(summary["with"]["priors"]) == ["D_OCp"] and summary["without"]["priors"] == {}
