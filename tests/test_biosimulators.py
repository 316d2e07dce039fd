"""Our OMEX archives in the tools modellers use: the BioSimulators validator and runners.

BioSimulators' packages pin versions that conflict with ours (libsedml, libsbml, tellurium), so each runs
in its own venv, made once and kept under the pytest cache (or ``$PYBRAINBONE_BIOSIM_VENVS``), and is
driven through the scripts in ``tests/tools/``. Measured on a 2-core machine:

* ``biosimulators-utils`` 0.2.3 (+ python-libsbml, setuptools<81 for kisao's pkg_resources): installs in
  about 50 s; validating the 19 library archives takes about 50 s (639 errors before the writer declared
  ``xmlns:sbml``, gave each variable its own id and wrote ``dc:title``; 0 now).
* ``biosimulators-tellurium`` 0.1.44 (tellurium 2.2.11, libroadrunner 2.7.0): installs in about 2 min 15 s;
  runs menopause in ~25 s, glucocorticoid_dose_response (a scan) in ~16 s, denosumab in ~19 s and
  adrb2_knockout in ~32 s (up to 2-3x that while other jobs share the cores).
* ``biosimulators-copasi`` 0.2.23 (COPASI 4.48): installs in about 1 min 45 s; runs menopause in ~15 s,
  glucocorticoid_dose_response in ~10 s, denosumab in ~7 s and adrb2_knockout in ~14 s.
* the whole module: about 2 min 40 s with the venvs made (plus ~5 min to make them).

adrb2_knockout is the case where an arm (``ovx``) does not change a parameter an earlier arm changed
(``SNS_Adrb2_KO``): biosimulators-tellurium keeps one model instance per SBML file, so before the writer
restated every changed quantity in every arm, ``ovx`` ran as a knock-out (ovx_resorption_wt off by 96 %).

BioSimulators evaluates a data generator element by element over variables of one shape (it pads a plain
task's course with NaN, never broadcasts it), so a generator that divides a scan (iterations x time) by a
plain arm (time) was NaN there: both runners failed glucocorticoid_dose_response's two generators. The
writer now reads such an arm from a repeatedTask that runs it unchanged over the scan's range
(writer._broadcast_pairs), and every generator must agree with ``pybrainbone run`` to rtol 1e-4.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.results import ExperimentResult
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.scorecard import library_specs
from pybrainbone.experiments.sedml import export_omex
from pybrainbone.experiments.spec import SteadyState, load_experiment

# Builds its own virtual environments of the BioSimulators tools (~5 min) and runs them: the
# `biosimulators` tier, which the default run (and so CI) includes whenever the package, the models or the
# library specs differ from its last recorded pass (tests/tiers.py); `pytest -m biosimulators` forces it.
pytestmark = [pytest.mark.slow, pytest.mark.biosimulators]

TOOLS = Path(__file__).parent / "tools"
#: What each venv installs, pinned to the releases measured below (a tier's digest covers this file, not
#: PyPI); kisao imports pkg_resources, gone from setuptools 81; the validator needs libsbml to check the
#: SBML model, which biosimulators-utils does not require.
VENVS = {
    "utils": ["biosimulators-utils==0.2.3", "python-libsbml", "setuptools<81"],
    "tellurium": ["biosimulators-tellurium==0.1.44", "setuptools<81"],
    "copasi": ["biosimulators-copasi==0.2.23", "setuptools<81"],
}
#: pip output that means the index could not be reached (then skip, not fail).
OFFLINE = (
    "Could not find a version",
    "No matching distribution",
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectionError",
    "ReadTimeoutError",
)
#: Representative archives: a plain two-arm time course, a scan, a drug with a dosing schedule, and arms
#: that change different parameters (what leaked between arms in biosimulators-tellurium).
RUN_CASES = ["menopause", "glucocorticoid_dose_response", "denosumab", "adrb2_knockout"]
RTOL = 1e-4
#: Data generators are % changes or clinical levels: below 1e-2 in their unit is solver noise.
FLOOR = 1e-2


def _venv_root(config: pytest.Config) -> Path:
    override = os.environ.get("PYBRAINBONE_BIOSIM_VENVS")
    if override:
        return Path(override)
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("biosimulators-venvs"))
    return Path(os.environ.get("PYBRAINBONE_CACHE", "/tmp")) / "biosimulators-venvs"


def _venv(config: pytest.Config, name: str, *, required: bool) -> Path:
    """The venv's python, made (once) if missing. Skip when offline, or when an optional one fails."""
    root = _venv_root(config) / name
    python = root / "bin" / "python"
    done = root / ".installed"
    wanted = " ".join(VENVS[name])
    if done.is_file() and python.is_file() and done.read_text(encoding="utf-8").splitlines()[:1] == [wanted]:
        return python
    start = time.perf_counter()
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(root)], capture_output=True, text=True
    )
    if made.returncode != 0:
        pytest.fail(f"cannot make a venv at {root}: {made.stderr[-2000:]}")
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *VENVS[name]],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = pip.stdout + pip.stderr
    if pip.returncode != 0:
        reason = f"pip install {' '.join(VENVS[name])} failed: {output.strip().splitlines()[-1:]}"
        if not required or any(marker in output for marker in OFFLINE):
            pytest.skip(reason)
        pytest.fail(f"{reason}\n{output[-4000:]}")
    done.write_text(f"{wanted}\n{time.perf_counter() - start:.0f} s\n", encoding="utf-8")
    return python


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner()


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory, runner: Runner) -> dict[str, Path]:
    """Every library spec exported once as an OMEX archive."""
    out = tmp_path_factory.mktemp("omex")
    return {
        p.stem: export_omex(load_experiment(p), out / f"{p.stem}.omex", runner=runner)
        for p in library_specs()
    }


def test_biosimulators_validator_accepts_every_library_archive(
    request: pytest.FixtureRequest, archives: dict[str, Path]
) -> None:
    """biosimulators-utils' validator (what BioSimulations runs on upload) finds no error in any archive."""
    python = _venv(request.config, "utils", required=True)
    done = subprocess.run(
        [str(python), str(TOOLS / "biosim_validate.py"), *map(str, archives.values())],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    found = json.loads(done.stdout)
    errors = {Path(path).stem: result["errors"] for path, result in found.items() if result["errors"]}
    assert len(found) == len(archives)
    assert not errors, json.dumps(errors, indent=1)[:8000]


# ---- the runners ---------------------------------------------------------------------------------------
def _ours(result: ExperimentResult, dg: str) -> np.ndarray:
    """Our data generator as a (repeat, time) matrix, repeats in scan-value order (one row without a scan)."""
    rows = result.data[result.data["data_generator"] == dg]
    if rows["scan_value"].isna().all():
        return np.asarray(rows["value"].to_numpy(dtype=float))[None, :]
    return np.vstack(
        [group["value"].to_numpy(dtype=float) for _, group in rows.groupby("scan_value", sort=False)]
    )


def _theirs(data: list[Any], shape: tuple[int, int], scanned: bool) -> np.ndarray:
    """A BioSimulators data set in our (repeat, time) layout.

    A plain task's data set is (time,), a repeated task's (iteration, subtask, time); in a report that
    mixes them every data set is NaN-padded to the largest shape, a plain one along its first axis.
    """
    array = np.array([[np.nan if v is None else v for v in np.ravel(data)]], dtype=float)
    array = array.reshape(np.shape(data))
    repeats, points = shape
    if array.ndim == 1:
        return array[None, :points]
    if not scanned:
        return array[:points, 0, 0][None, :]
    return array[:repeats, 0, :points]


def _relative_difference(theirs: np.ndarray, ours: np.ndarray) -> float:
    """max |a - b| / max(|b|, scale), the scale being the quantity's own (at least FLOOR); NaN is inf."""
    if theirs.shape != ours.shape or np.isnan(theirs).any():
        return float("inf")
    scale = max(float(np.max(np.abs(ours))), FLOOR)
    return float(np.max(np.abs(theirs - ours) / np.maximum(np.abs(ours), scale)))


@pytest.fixture(scope="module")
def our_results() -> dict[str, ExperimentResult]:
    return {}


@pytest.mark.parametrize("case", RUN_CASES)
@pytest.mark.parametrize("tool", ["tellurium", "copasi"])
def test_biosimulators_runner_reproduces_our_numbers(
    tool: str,
    case: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    runner: Runner,
    archives: dict[str, Path],
    our_results: dict[str, ExperimentResult],
) -> None:
    """The runner's ``all_data`` report equals ``pybrainbone run``'s data generators (rtol 1e-4)."""
    python = _venv(request.config, tool, required=False)
    experiment = load_experiment(next(p for p in library_specs() if p.stem == case))
    if case not in our_results:
        our_results[case] = runner.run(experiment)
    ours = our_results[case]
    done = subprocess.run(
        [str(python), str(TOOLS / "biosim_run.py"), tool, str(archives[case]), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=1800,
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    found = json.loads(done.stdout)
    assert found["returncode"] == 0, found["log"]
    report = found["reports"].get("all_data")
    assert report is not None, f"{tool} wrote no all_data report: {sorted(found['reports'])}\n{found['log']}"
    worst: dict[str, float] = {}
    scans = {s.id for s in experiment.scans}
    for dg in experiment.data_generators:
        expected = _ours(ours, dg.id)
        assert dg.id in report, f"{tool} has no data set {dg.id!r}"
        scanned = bool({t for t, _ in parse_expression(dg.expression).references} & scans)
        worst[dg.id] = _relative_difference(_theirs(report[dg.id], expected.shape, scanned), expected)
    if not isinstance(experiment.simulation, SteadyState):
        time_axis = _theirs(report["time"], (1, experiment.simulation.points), scanned=False)
        np.testing.assert_allclose(
            time_axis[0], ours.arms[experiment.arms[0].id].index.to_numpy(), rtol=1e-12
        )
    bad = {k: f"{v:.2e}" for k, v in worst.items() if not v <= RTOL}
    assert not bad, f"{tool} differs from pybrainbone run beyond {RTOL}: {bad}"
