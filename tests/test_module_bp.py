"""Bisphosphonate module (models/bp.ant): alendronate and zoledronate PK into bone-surface and
buried pools, release by resorption and re-binding, and resorption inhibition that outlasts the dosing.

The findings and their sources are listed in tests/data/bp_reference.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator, compile_model

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((Path(__file__).parent / "data" / "bp_reference.json").read_text(encoding="utf-8"))
STATES = ["P_aln", "S_aln", "D_aln", "P_zol", "S_zol", "D_zol"]
COMPOSITION = """import "bone_remodeling.ant"
import "bp.ant"
model bp_axis()
  unit time_unit = 86400 second
  unit substance = 1e-12 mole
  unit extent = 1e-12 mole
  unit volume = litre
  unit day = 86400 second
  unit per_day = 1 / 86400 second
  unit mg = 1e-3 gram
  core: bone_remodeling()
  BP: bp()
  core.f_resorption := BP.F_resorption
  BP.resorption_in := core.CTX_rel
  BP.formation_in := core.P1NP_rel
end
"""


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("bp")


@pytest.fixture(scope="module")
def axis(tmp_path_factory: pytest.TempPathFactory) -> Simulator:
    folder = tmp_path_factory.mktemp("bp_axis")
    for name in ("bone_remodeling", "bp"):
        shutil.copy(ROOT / "models" / f"{name}.ant", folder)
    (folder / "bp_axis.ant").write_text(COMPOSITION, encoding="utf-8")
    return Simulator(compile_model("bp_axis", folder))


def _urine_fraction(course, dose: float, drug: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    # Mass balance: what is neither in plasma nor in bone has been excreted.
    return 1 - (course[f"P_{drug}"] + course[f"S_{drug}"] + course[f"D_{drug}"]).to_numpy() / dose


def test_no_drug_by_default(sim: Simulator) -> None:
    p = sim.parameters()["value"]
    assert p["dose_aln"] == 0.0 and p["dose_zol"] == 0.0
    course = sim.simulate(end=50 * 365.25, points=11, selections=[*STATES, "F_resorption"])
    assert (course[STATES] == 0.0).all().all()
    assert (course["F_resorption"] == 1.0).all()


def test_alendronate_plasma_clearance_and_bone_uptake(sim: Simulator) -> None:
    assert sim.parameters()["value"]["F_aln"] == pytest.approx(0.0064)  # 0.64 % oral bioavailability
    course = sim.simulate(
        end=3.0, points=289, changes={"dose_aln": 10.0, "F_aln": 1.0, "n_aln": 1.0}, selections=STATES
    )
    assert course["P_aln"].loc[0.25] / 10.0 < 0.06, "~5 % of initial within 6 h"
    urine = _urine_fraction(course, 10.0, "aln")[-1]
    assert 0.45 <= urine <= 0.55, urine  # ~50 % of a systemic dose in urine in 72 h


def test_alendronate_retention_khan_1997(sim: Simulator) -> None:
    # i.v. alendronate 30 mg over 4 days (7.5 mg a day), as in Khan et al. 1997.
    course = sim.simulate(
        end=3652.5,
        points=3653,
        changes={"dose_aln": 7.5, "F_aln": 1.0, "tau_aln": 1.0, "n_aln": 4.0},
        selections=STATES,
    )
    urine = _urine_fraction(course, 30.0, "aln")
    assert 0.45 <= urine[5] <= 0.55, urine[5]  # ~50 % over the first 5 days
    assert 0.12 <= urine[188] - urine[5] <= 0.20, urine[188] - urine[5]  # a further 17 % in 6 months
    bone = (course["S_aln"] + course["D_aln"]).to_numpy()
    terminal = 5 * 365.25 * np.log(2) / np.log(bone[1826] / bone[3652]) / 365.25
    assert terminal > 10.0, terminal  # terminal half-life > 10 years


def test_zoledronate_plasma_and_bone_fraction(sim: Simulator) -> None:
    course = sim.simulate(end=1.0, points=1441, changes={"dose_zol": 5.0, "n_zol": 1.0}, selections=STATES)
    p = course["P_zol"]
    half_life_h = np.log(2) / np.log(p.iloc[60] / p.iloc[120])  # between hours 1 and 2 (1-min grid)
    assert half_life_h == pytest.approx(1.87, rel=0.01)  # t1/2beta 1.87 h
    bound = (course["S_zol"] + course["D_zol"]).iloc[-1] / 5.0
    assert bound == pytest.approx(0.61, abs=0.02)  # 39 +/- 16 % in urine within 24 h


def test_release_by_resorption_and_slow_decay_after_stopping(sim: Simulator) -> None:
    # Five years of weekly alendronate, then five years off: the effect decays over years, not weeks.
    changes = {"dose_aln": 70.0, "n_aln": 261.0}
    course = sim.simulate(
        end=3652.5, points=3653, changes=changes, selections=["E_bp", "F_resorption", "D_aln"]
    )
    on, off_1y, off_5y = (course["F_resorption"].iloc[d] for d in (1826, 2191, 3652))
    assert on < off_1y < off_5y < 1.0
    assert 1 - off_5y > 0.5 * (1 - on), "half of the inhibition is left five years after stopping"
    faster = sim.simulate(
        end=3652.5, points=3653, changes={**changes, "resorption_in": 2.0}, selections=["D_aln"]
    )
    assert faster["D_aln"].iloc[3652] < course["D_aln"].iloc[3652], "resorption releases buried drug"


def test_resorption_suppression_in_the_core(axis: Simulator) -> None:
    assert "resorption_suppression_in_core" in REFERENCE["findings"]
    aln = axis.simulate(end=365.25, points=366, changes={"BP_dose_aln": 70.0}, selections=["core_CTX_rel"])
    assert 0.35 <= aln["core_CTX_rel"].iloc[365] <= 0.6  # NTX -55.6 % vs -11.2 % on calcium
    zol = axis.simulate(
        end=1095.75, points=1096, changes={"BP_dose_zol": 5.0, "BP_n_zol": 1.0}, selections=["core_CTX_rel"]
    )["core_CTX_rel"].to_numpy()
    assert 0.4 <= zol[365] <= 0.65 and 0.4 <= zol[1095] <= 0.65, (zol[365], zol[1095])  # -44 % at 3 years
    one_mg = axis.simulate(
        end=1095.75, points=2, changes={"BP_dose_zol": 1.0, "BP_n_zol": 1.0}, selections=["core_CTX_rel"]
    )["core_CTX_rel"].iloc[-1]
    assert one_mg > zol[1095], "dose-dependent duration (Grey 2017: 1 mg wanes first)"


def test_flex_like_persistence_in_the_core(axis: Simulator) -> None:
    sel = ["core_CTX_rel", "core_BMD", "core_BMD_hip"]
    cont = axis.simulate(end=3652.5, points=2, changes={"BP_dose_aln": 70.0}, selections=sel).iloc[-1]
    stop = axis.simulate(
        end=3652.5, points=2, changes={"BP_dose_aln": 70.0, "BP_n_aln": 261.0}, selections=sel
    ).iloc[-1]
    ratio = stop["core_CTX_rel"] / cont["core_CTX_rel"]
    assert 1.3 <= ratio <= 1.8, ratio  # FLEX: CTX +55.6 % in the stopped arm
    assert stop["core_CTX_rel"] < 1.0, "still below pretreatment after 5 years off"
    assert stop["core_BMD"] < cont["core_BMD"] and stop["core_BMD_hip"] < cont["core_BMD_hip"]
