"""Results carry their names, units and provenance, and display themselves in notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import Experiment, load_experiment
from pybrainbone.paths import experiments_dir

SPEC = {
    "id": "opg_scan",
    "model": "bone_remodeling",
    "simulation": {"type": "uniform_time_course", "end": 100, "points": 5},
    "arms": [{"id": "control"}, {"id": "pth", "changes": {"P_PTH_ext": 50.0}}],
    "scans": [{"id": "dose", "arm": "control", "parameter": "P_OPG_ext", "values": [0.0, 1e4]}],
    "data_generators": [
        {"id": "bmd", "expression": "100 * (pth.BMD / control.BMD - 1)", "unit": "%", "name": "BMD change"},
        {"id": "ocl", "expression": "dose.OCa / control.OCa", "unit": "1"},
    ],
}


def test_results_as_an_xarray_dataset_with_units_and_provenance() -> None:
    result = Runner().run(Experiment.model_validate(SPEC))
    data = result.to_xarray()
    assert data["bmd"].dims == ("time",) and data["bmd"].attrs["units"] == "%"
    assert data["ocl"].dims == ("scan_value", "time") and list(data["ocl"].scan_value) == [0.0, 1e4]
    assert data["time"].attrs["units"] == "day"
    assert data.attrs["model"] == "bone_remodeling" and len(data.attrs["model_sha256"]) == 64
    assert json.loads(data.attrs["solver"])["relative_tolerance"] == 1e-9
    np.testing.assert_allclose(data["bmd"].to_numpy(), result.series("bmd").to_numpy())


def test_rerunning_from_the_recorded_provenance_reproduces_the_numbers() -> None:
    spec = load_experiment(experiments_dir() / "menopause.yaml")
    first = Runner().run(spec)
    again = Runner().run(load_experiment(experiments_dir() / "menopause.yaml"))
    for key in ("spec_sha256", "model_sha256", "solver", "organism", "pybrainbone"):
        assert first.provenance[key] == again.provenance[key]
    assert first.data["value"].equals(again.data["value"])


def test_notebook_displays() -> None:
    sim = Simulator("bone_remodeling")
    assert "bone_remodeling" in sim._repr_html_() and "organism" in sim._repr_html_()
    html = Runner().run(Experiment.model_validate(SPEC))._repr_html_()
    assert html.count("data:image/png;base64,") == 1


def test_an_organism_preset_in_the_simulator() -> None:
    human, rat = Simulator("bone_remodeling"), Simulator("bone_remodeling", organism="rat")
    assert rat.parameters().loc["D_OBu", "value"] == pytest.approx(
        4 * human.parameters().loc["D_OBu", "value"]
    )
    # the same intervention, faster in the rat: after 30 days its bone has moved further
    change = {"P_RANKL_ext": 1e4}
    bmd = {s.organism: s.simulate(end=30, points=2, changes=change)["BMD"].iloc[-1] for s in (human, rat)}
    assert bmd["rat"] < bmd["human"] < 100
    with pytest.raises(Exception, match="unknown organism 'dog'"):
        Simulator("bone_remodeling", organism="dog")


def test_every_cli_output_records_provenance_and_the_scorecard_reads_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import xarray as xr

    from pybrainbone.cli import main

    spec = experiments_dir() / "y2_knockout.yaml"
    assert main(["run", str(spec), "-o", str(tmp_path), "-q"]) == 0
    summary = json.loads((tmp_path / "y2_knockout.summary.json").read_text(encoding="utf-8"))
    assert summary["provenance"]["spec_id"] == "y2_knockout" and summary["provenance"]["organism"] == "mouse"
    with xr.open_dataset(tmp_path / "y2_knockout.nc", engine="scipy") as data:
        assert data.attrs["spec_sha256"] == summary["provenance"]["spec_sha256"]
    capsys.readouterr()
    assert main(["scorecard", str(spec), "--results", str(tmp_path), "--json"]) == 0
    read = json.loads(capsys.readouterr().out)
    assert [r["value"] for r in read] == [t["value"] for t in summary["targets"]]
    other = tmp_path / "other"
    other.mkdir()
    assert main(["scorecard", str(spec), "--results", str(other)]) == 2  # no results there: one-line error
    out = tmp_path / "rat.csv"
    args = ["simulate", "bone_remodeling", "--end", "30", "--organism", "rat", "-o", str(out)]
    assert main(args) == 0
    record = json.loads(out.with_suffix(".provenance.json").read_text(encoding="utf-8"))
    assert record["organism"] == "rat" and record["model"] == "bone_remodeling"
