"""Osteocyte/sclerostin module (models/ocy.ant): loading, PTH and Sost deletion set sclerostin; free
sclerostin sets Wnt-driven formation and osteocyte RANKL; with romosozumab the core shows the dual effect.

The findings and their sources are listed in tests/data/ocy_reference.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator, compile_model

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((Path(__file__).parent / "data" / "ocy_reference.json").read_text(encoding="utf-8"))
FACTORS = ["F_OB_diff", "F_formation", "F_RANKL"]
OUT = ["Scl", "Scl_rel", "Scl_free_rel", "Wnt_rel", *FACTORS]

COMPOSITION = """import "bone_remodeling.ant"
import "ocy.ant"
import "romo.ant"
model ocy_axis()
  unit time_unit = 86400 second
  unit substance = 1e-12 mole
  unit extent = 1e-12 mole
  unit volume = litre
  unit day = 86400 second
  unit per_day = 1 / 86400 second
  unit pM = 1e-12 mole / litre
  unit mg = 1e-3 gram
  core: bone_remodeling()
  OCY: ocy()
  ROMO: romo()
  core.f_OB_diff := OCY.F_OB_diff
  core.f_formation := OCY.F_formation
  core.f_RANKL := OCY.F_RANKL
  OCY.Scl_binding := ROMO.Scl_binding
end
"""


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("ocy")


@pytest.fixture(scope="module")
def axis(tmp_path_factory: pytest.TempPathFactory) -> Simulator:
    folder = tmp_path_factory.mktemp("ocy_axis")
    for name in ("bone_remodeling", "ocy", "romo"):
        shutil.copy(ROOT / "models" / f"{name}.ant", folder)
    (folder / "ocy_axis.ant").write_text(COMPOSITION, encoding="utf-8")
    return Simulator(compile_model("ocy_axis", folder))


def _steady(sim: Simulator, changes: dict[str, float]) -> dict[str, float]:
    row = sim.simulate(end=2000.0, points=2, changes=changes, selections=OUT).iloc[-1]
    return {k: float(row[k]) for k in OUT}


def test_sclerostin_kinetics_are_eudy_2015(sim: Simulator) -> None:
    params = sim.parameters()["value"]
    assert params["kin_scl"] / params["kout_scl"] == pytest.approx(params["Scl_ref"], rel=1e-12)
    assert params["Scl_ref"] == pytest.approx(149.0)  # 0.149 nmol/L
    assert np.log(2) / params["kout_scl"] * 24 * 60 == pytest.approx(40.0, abs=0.5)  # minutes
    assert sim.initial_values()["Scl"] == pytest.approx(149.0)


def test_bed_rest_raises_sclerostin_and_restrains_formation(sim: Simulator) -> None:
    bed_rest = _steady(sim, {"unload_level": 0.5})
    assert 1.29 <= bed_rest["Scl_rel"] <= 1.45, bed_rest  # +29 % (day 28) to +42 % (day 60)
    assert bed_rest["F_OB_diff"] < 1 and bed_rest["F_formation"] < 1
    assert bed_rest["F_RANKL"] > 1
    # A timed window: nothing before, the rise during, back to rest after reloading.
    course = sim.simulate(
        end=120.0,
        points=121,
        changes={"unload_level": 0.5, "t_unload": 10.0, "t_unload_end": 70.0},
        selections=["Scl_rel"],
    )["Scl_rel"]
    assert course.loc[:9.0].max() == pytest.approx(1.0, abs=1e-9)
    assert course.loc[40.0] == pytest.approx(bed_rest["Scl_rel"], rel=0.05)
    assert course.loc[120.0] == pytest.approx(1.0, abs=0.05)


def test_intermittent_pth_lowers_sclerostin_by_a_eighth(sim: Simulator) -> None:
    pth = _steady(sim, {"PTH_in": 2.06})
    assert pth["Scl_rel"] == pytest.approx(0.873, abs=0.01)  # 551 -> 482 pg/mL (-12.7 %)
    assert pth["F_OB_diff"] > 1 and pth["F_RANKL"] < 1


def test_sost_knockout_removes_sclerostin_and_the_disuse_response(sim: Simulator) -> None:
    ko = _steady(sim, {"Sost_KO": 1.0})
    assert ko["Scl"] == pytest.approx(0.0, abs=1e-6)
    assert ko["F_OB_diff"] > 1.05 and ko["F_formation"] > 1.05 and ko["F_RANKL"] < 0.5
    ko_unloaded = _steady(sim, {"Sost_KO": 1.0, "unload_level": 0.0})
    for name in FACTORS:
        assert ko_unloaded[name] == pytest.approx(ko[name], abs=1e-6), name
    timed = sim.simulate(
        end=60.0, points=61, changes={"Sost_KO": 1.0, "t_Sost_KO": 20.0}, selections=["Scl_rel"]
    )
    assert timed["Scl_rel"].loc[19.0] == pytest.approx(1.0, abs=1e-9)
    assert timed["Scl_rel"].loc[21.0] < 1e-6


def test_glucocorticoid_link_is_off_because_its_sign_is_contested(sim: Simulator) -> None:
    assert sim.parameters()["value"]["g_cort"] == 0.0
    gc = _steady(sim, {"cortisol_in": 3.0})
    assert gc["Scl_rel"] == pytest.approx(1.0, abs=1e-9)


def test_antibody_neutralisation_releases_wnt_and_lowers_rankl(sim: Simulator) -> None:
    acute = sim.simulate(end=3.0, points=2, changes={"Scl_binding": 0.95}, selections=OUT).iloc[-1]
    assert acute["Scl_rel"] == pytest.approx(1.0, abs=1e-9), "binding does not change production"
    assert acute["Scl_free_rel"] == pytest.approx(0.05, rel=1e-3)
    assert acute["F_OB_diff"] > 1.5 and acute["F_formation"] > 1.5
    assert acute["F_RANKL"] < 0.3
    later = sim.simulate(end=365.0, points=2, changes={"Scl_binding": 0.95}, selections=OUT).iloc[-1]
    assert 1.0 < later["F_OB_diff"] < acute["F_OB_diff"], (
        "Wnt-antagonist compensation wanes the anabolic signal"
    )


def test_mechanostat_more_bone_means_more_sclerostin(sim: Simulator) -> None:
    more_bone = _steady(sim, {"bone_mass_in": 1.1})
    assert more_bone["Scl_rel"] == pytest.approx(1.1**0.5, rel=1e-3)


def test_romosozumab_dual_effect_in_the_core(axis: Simulator) -> None:
    assert "romosozumab_pattern_in_core" in REFERENCE["findings"]
    course = axis.simulate(
        end=365.25,
        points=366,
        changes={"ROMO_dose_romo": 210.0, "ROMO_n_romo": 12.0},
        selections=["core_P1NP_rel", "core_CTX_rel", "core_BMD"],
    )
    p1np, ctx, bmd = (course[c].to_numpy() for c in ("core_P1NP_rel", "core_CTX_rel", "core_BMD"))
    peak = p1np[:36].max()
    assert 2.0 <= peak <= 3.0, peak  # label: +145 % at 2 weeks
    assert 0.75 <= p1np[273] <= 1.15, p1np[273]  # label: placebo level at month 9
    assert p1np[365] < p1np[273] < 0.5 * peak + 0.5
    assert ctx[14] < 0.7, ctx[14]  # label: -55 % at 2 weeks
    assert ctx[365] < 1.0
    assert bmd[365] > 104.0, bmd[365]  # lumbar spine gains (phase 2: +11.3 %; the model +6.8 %)
