"""Export a calibration problem (specs with ``measurements:`` links) as a PEtab v1 problem.

What each piece becomes:

* the model: the compiled SBML, with its timed interventions as the SBML events they already are; a link
  with a ``change`` or ``percent_change`` transform adds a parameter ``pbb_ref_<i>`` and an event at its
  ``time_offset`` that stores the data generator's value there (PEtab v1 observables cannot read another
  time point);
* conditions: one per arm (``<experiment>__<arm>``), setting what the plan sets before the sample (organism
  preset and shared changes) and after it (the arm's own changes);
* observables: one per link, the data generator with its arm prefix dropped (a link's data generator must
  read a single arm), normal noise with ``noiseParameter1_<observable>``;
* measurements: one per linked row, at its model time (days), its standard error as the noise parameter;
* parameters: the estimated parameters on the log10 scale with their bounds and their prior on that
  scale: a literature prior as ``parameterScaleNormal`` (mean; sd, :mod:`pybrainbone.calibration.priors`),
  otherwise uniform within the bounds (``parameterScaleUniform``, PEtab's default made explicit).

Not exported (a one-line error says so): ``pre_equilibration`` (pybrainbone holds ``@accumulates``
states at a steady state, which a PEtab pre-equilibration does not) and data generators comparing arms.

>>> sorted(PETAB_FILES)
['conditions', 'measurements', 'model', 'observables', 'parameters', 'problem']
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libsbml
import pandas as pd

from pybrainbone.atomic import staged_directory
from pybrainbone.calibration.likelihood import CalibrationError, EstimatedParameter, Likelihood, Term
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.simulator import Simulator

__all__ = ["PETAB_FILES", "export_petab", "parameters_ok", "petab_tables", "quiet_petab"]

#: File names of the exported problem.
PETAB_FILES = {
    "model": "model.xml",
    "conditions": "conditions.tsv",
    "observables": "observables.tsv",
    "measurements": "measurements.tsv",
    "parameters": "parameters.tsv",
    "problem": "problem.yaml",
}


def _single_arm_formula(term: Term, k: int) -> tuple[str, str]:
    """(arm, formula) of link ``k``'s data generator, read in one arm."""
    link = term.links[k]
    expression = parse_expression(term.expression(link))
    arms = sorted({a for a, _ in expression.references})
    if len(arms) != 1:
        raise CalibrationError(
            f"{term.plan.experiment.id}: data generator {link.data_generator!r} reads arms {arms}; PEtab v1 "
            "observables read one condition, so link a data generator of one arm"
        )
    return arms[0], expression.infix(lambda arm, variable: variable)


def _add_reference_event(model: Any, pid: str, formula: str, time: float) -> None:
    """Parameter ``pid`` set to ``formula`` when time reaches ``time`` (an SBML event)."""
    parameter = model.createParameter()
    parameter.setId(pid)
    parameter.setConstant(False)
    parameter.setValue(1.0)
    event = model.createEvent()
    event.setId(f"{pid}_event")
    event.setUseValuesFromTriggerTime(True)
    trigger = event.createTrigger()
    trigger.setInitialValue(False)
    trigger.setPersistent(True)
    trigger.setMath(libsbml.parseL3Formula(f"time >= {time!r}"))
    assignment = event.createEventAssignment()
    assignment.setVariable(pid)
    assignment.setMath(libsbml.parseL3Formula(formula))


def _observables(
    likelihood: Likelihood, model: Any
) -> tuple[pd.DataFrame, dict[tuple[int, int], tuple[str, str]]]:
    rows, ids = [], {}
    for t, term in enumerate(likelihood.terms):
        if term.plan.pre_equilibration is not None:
            raise CalibrationError(
                f"{term.plan.experiment.id}: PEtab export of pre_equilibration is not implemented "
                "(pybrainbone holds @accumulates states at the steady state; PEtab's pre-equilibration "
                "does not)"
            )
        for k, link in enumerate(term.links):
            arm, formula = _single_arm_formula(term, k)
            oid = f"{term.plan.experiment.id}__{link.data_generator}__{k}"
            if link.transform != "identity":
                ref = f"pbb_ref_{t}_{k}"
                _add_reference_event(model, ref, formula, link.time_offset)
                formula = (
                    f"({formula}) - {ref}"
                    if link.transform == "change"
                    else f"100 * (({formula}) / {ref} - 1)"
                )
            rows.append({
                "observableId": oid,
                "observableName": f"{link.observable} ({link.transform}) from {link.data_generator}",
                "observableFormula": formula,
                "observableTransformation": "lin",
                "noiseFormula": f"noiseParameter1_{oid}",
                "noiseDistribution": "normal",
            })  # fmt: skip
            ids[(t, k)] = (oid, f"{term.plan.experiment.id}__{arm}")
    return pd.DataFrame(rows), ids


def _conditions(likelihood: Likelihood, simulator: Simulator) -> pd.DataFrame:
    estimated = set(likelihood.names)
    reference = {**simulator.initial_values().to_dict(), **simulator.parameters()["value"].to_dict()}
    per_condition: dict[str, dict[str, float]] = {}
    for term in likelihood.terms:
        for run in term.plan.arms:
            changes = {k: v for k, v in term.plan.changes(run).items() if k not in estimated}
            per_condition[f"{term.plan.experiment.id}__{run.arm}"] = changes
    columns = sorted({name for changes in per_condition.values() for name in changes})
    rows = [
        {"conditionId": cid, **{c: float(changes.get(c, reference[c])) for c in columns}}
        for cid, changes in per_condition.items()
    ]
    return pd.DataFrame(rows, columns=["conditionId", *columns])


def _prior_columns(p: EstimatedParameter) -> dict[str, str]:
    """PEtab's objective prior of ``p``: its literature prior, else uniform within the bounds (both log10)."""
    if p.prior is None:
        return {
            "objectivePriorType": "parameterScaleUniform",
            "objectivePriorParameters": f"{p.log_lower!r};{p.log_upper!r}",
        }
    return {
        "objectivePriorType": "parameterScaleNormal",
        "objectivePriorParameters": f"{p.prior.mean!r};{p.prior.sd!r}",
    }


def petab_tables(likelihood: Likelihood, simulator: Simulator | None = None) -> dict[str, Any]:
    """The PEtab tables (DataFrames) and the SBML text of ``likelihood``'s problem.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> tables = petab_tables(likelihood)
    >>> tables["observables"]["observableFormula"].tolist()
    ['CTX_rel', '100 * ((BMD) / pbb_ref_0_1 - 1)']
    >>> tables["conditions"].to_dict("records")
    [{'conditionId': 'synthetic_pth__pth', 'P_PTH_ext': 100.0}]
    >>> len(tables["measurements"]), tables["parameters"]["parameterScale"].tolist()
    (24, ['log10'])
    """
    simulator = simulator or Simulator(likelihood.model)
    document = libsbml.readSBMLFromString(likelihood.model.sbml)
    observables, ids = _observables(likelihood, document.getModel())
    measurements = pd.DataFrame([
        {
            "observableId": ids[(t, o.link)][0],
            "simulationConditionId": ids[(t, o.link)][1],
            "time": o.time,
            "measurement": o.mean,
            "noiseParameters": o.sigma,
            "datasetId": o.dataset,
        }
        for t, term in enumerate(likelihood.terms)
        for rows in term.rows
        for o in (likelihood.observations[i] for i in rows)
    ])  # fmt: skip
    parameters = pd.DataFrame([
        {
            "parameterId": p.name,
            "parameterScale": "log10",
            "lowerBound": p.lower,
            "upperBound": p.upper,
            "nominalValue": p.nominal,
            "estimate": 1,
            **_prior_columns(p),
        }
        for p in likelihood.parameters
    ])  # fmt: skip
    return {
        "sbml": libsbml.writeSBMLToString(document),
        "conditions": _conditions(likelihood, simulator),
        "observables": observables,
        "measurements": measurements,
        "parameters": parameters,
    }


_PROBLEM_YAML = """format_version: 1
parameter_file: {parameters}
problems:
- sbml_files: [{model}]
  condition_files: [{conditions}]
  measurement_files: [{measurements}]
  observable_files: [{observables}]
"""


def export_petab(likelihood: Likelihood, directory: str | Path, *, lint: bool = True) -> Path:
    """Write the PEtab problem into ``directory`` (all files appear together) and return its YAML file.

    With ``lint`` the written problem is checked with PEtab's linter first; a problem it rejects is an
    error and nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> spec = load_experiment(problem.spec)
    >>> likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
    >>> export_petab(likelihood, Path(tmp.name) / "petab").name
    'problem.yaml'
    >>> tmp.cleanup()
    """
    tables = petab_tables(likelihood)
    if not parameters_ok(tables["parameters"]):
        raise CalibrationError("no parameters to estimate; a PEtab problem needs at least one")
    with staged_directory(directory) as stage:
        (stage / PETAB_FILES["model"]).write_text(tables["sbml"], encoding="utf-8")
        for key in ("conditions", "observables", "measurements", "parameters"):
            tables[key].to_csv(stage / PETAB_FILES[key], sep="\t", index=False, float_format="%.17g")
        (stage / PETAB_FILES["problem"]).write_text(_PROBLEM_YAML.format(**PETAB_FILES), encoding="utf-8")
        if lint:
            _lint(stage / PETAB_FILES["problem"])
    return Path(directory) / PETAB_FILES["problem"]


def parameters_ok(parameters: pd.DataFrame) -> bool:
    """Whether the parameter table estimates anything, with finite positive bounds.

    Examples
    --------
    >>> parameters_ok(pd.DataFrame({"lowerBound": [0.1], "upperBound": [10.0]}))
    True
    """
    if parameters.empty:
        return False
    bounds = [*parameters["lowerBound"], *parameters["upperBound"]]
    return all(math.isfinite(b) and b > 0 for b in bounds)


@contextlib.contextmanager
def quiet_petab() -> Iterator[None]:
    """Silence the deprecation warnings petab and pyPESTO raise from their own pandas calls (pandas 3
    deprecates ``inplace=`` and ``float_precision=``): theirs to fix, not the user's to see.

    Examples
    --------
    >>> with quiet_petab():
    ...     pass
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(petab|pypesto)(\.|$)")
        yield


def _lint(problem_yaml: Path) -> None:
    import logging

    import petab.v1 as petab

    logger = logging.getLogger("petab")  # petab logs each problem it finds; the error says there are some
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with quiet_petab():
            problem = petab.Problem.from_yaml(problem_yaml)
            failed = petab.lint_problem(problem)
    finally:
        logger.setLevel(level)
    if failed:
        raise CalibrationError(
            f"the exported PEtab problem does not pass petab's lint; run `petablint -y {problem_yaml}` "
            "to see why"
        )
