"""Denosumab module (models/dmab.ant): drug-free rest, PK against published numbers, RANKL binding."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pybrainbone import Simulator

OUT = ["Dmab_conc", "Dmab_pM", "RANKL_binding", "A_depot"]
ZERO = ["Dmab_conc", "Dmab_pM", "RANKL_binding", "A_depot"]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("dmab")


@pytest.fixture(scope="module")
def single_dose(sim: Simulator):  # type: ignore[no-untyped-def]
    # One 60 mg SC injection, sampled every 0.1 day for 400 days.
    return sim.simulate(end=400, points=4001, changes={"dose_dmab": 60, "n_dmab": 1}, selections=OUT)


def test_no_drug_by_default(sim: Simulator) -> None:
    params = sim.parameters()["value"]
    assert params["dose_dmab"] == 0.0
    course = sim.simulate(end=50 * 365.25, points=11, selections=[*ZERO, "F_RANKL_free"])
    assert np.all(course[ZERO].to_numpy() == 0.0)
    assert np.all(course["F_RANKL_free"].to_numpy() == 1.0)
    assert sim.steady_state()["RANKL_binding"] == 0.0


def test_conversions_reproduce_openbonemin_native_units(single_dose) -> None:  # type: ignore[no-untyped-def]
    # OpenBoneMin's denosumab block in its own units (hours, mL, ng; dose mg x 1e6 into DENSC).
    vmax, km, vc, vp, cl, q, ka, f = 3110.0, 188.0, 2340.0, 1324.0, 2.75, 18.67, 0.00592, 0.729

    def rhs(_t: float, y: np.ndarray) -> list[float]:
        sc, cent, per = y
        cp = cent / vc
        clnl = vmax / (km + cp)
        return [-ka * sc, ka * sc + q * per / vp - (q + cl + clnl) * cent / vc, q * cent / vc - q * per / vp]

    days = np.array([5.0, 14.4, 30.0, 60.0, 120.0, 180.0])
    native = solve_ivp(
        rhs, (0, 180 * 24), [60 * f * 1e6, 0, 0], t_eval=days * 24, rtol=1e-10, atol=1e-6, method="LSODA"
    )
    ng_per_ml = native.y[1] / vc
    ours = single_dose["Dmab_conc"].to_numpy()[np.rint(days * 10).astype(int)]  # ug/mL
    # The 21-min injection step (k_inj) is the only difference: < 1 % after the first days.
    np.testing.assert_allclose(ours[1:] * 1000, ng_per_ml[1:], rtol=1e-2)
    np.testing.assert_allclose(ours[0] * 1000, ng_per_ml[0], rtol=3e-2)


def test_pk_after_60_mg_matches_published_profile(single_dose) -> None:  # type: ignore[no-untyped-def]
    # Prolia label (clinical pharmacology): Cmax 6.75 +- 1.89 ug/mL at a median 10 days (3-21 days),
    # then a mean half-life of 25.4 +- 8.5 days; concentrations fall over 4-5 months (RANKL-mediated).
    conc = single_dose["Dmab_conc"]
    cmax, tmax = conc.max(), conc.idxmax()
    assert 4.0 < cmax < 10.0, cmax  # model 8.5 ug/mL (OpenBoneMin popPK, Peterson 2004)
    assert 3.0 <= tmax <= 21.0, tmax  # model 14.4 days
    half_life = np.log(2) * 60 / np.log(conc.loc[30.0] / conc.loc[90.0])
    assert 17.0 < half_life < 34.0, half_life  # model 30.5 days over days 30-90
    assert conc.loc[180.0] < 0.02 * cmax, "target-mediated clearance: almost gone by month 6"


def test_repeated_doses_without_events(sim: Simulator) -> None:
    course = sim.simulate(
        end=730.5, points=7306, changes={"dose_dmab": 60, "t_dmab": 100.0, "n_dmab": 2}, selections=OUT
    )
    conc = course["Dmab_conc"]
    assert conc.loc[:99.9].max() == 0.0, "nothing before the first injection"
    first = conc.loc[100.0:282.6].max()
    second = conc.loc[282.7:465.2].max()
    assert second == pytest.approx(first, rel=0.02), "each dose gives the same peak (little accumulation)"
    assert conc.loc[500.0:].max() < 0.05 * first, "no third dose when n_dmab = 2"


def test_binding_capacity_is_chi_ka_concentration(sim: Simulator, single_dose) -> None:  # type: ignore[no-untyped-def]
    params = sim.parameters()["value"]
    row = single_dose.loc[14.4]
    assert row["Dmab_pM"] == pytest.approx(row["Dmab_conc"] / 1.5e-4, rel=1e-12)  # 1 ug/mL = 6667 pM
    assert row["RANKL_binding"] == pytest.approx(
        params["chi_dmab"] * params["K_A_dmab"] * row["Dmab_pM"], rel=1e-12
    )
    assert row["RANKL_binding"] > 100.0  # >> the core's OPG + RANK term (~19.8) at the peak


def test_denosumab_suppresses_osteoclasts_in_the_composed_model() -> None:
    axis = Simulator("brain_bone_axis")
    course = axis.simulate(
        end=90.0,
        points=4,
        changes={"Dmab_dose_dmab": 60.0},
        selections=["core_RANKL", "core_CTX_rel", "core_BMD", "core_BMD_hip"],
    )
    base = axis.baseline()
    month = course.iloc[1]
    assert month["core_RANKL"] < 0.2 * base["core_RANKL"], "free RANKL mostly neutralised"
    assert month["core_CTX_rel"] < 0.5, "resorption suppressed within a month"
    assert course["core_BMD"].iloc[-1] > 100.0 and course["core_BMD_hip"].iloc[-1] > 100.0
    off = axis.simulate(
        end=90.0, points=2, changes={"Dmab_dose_dmab": 60.0, "on_dmab": 0.0}, selections=["core_BMD"]
    )
    assert off["core_BMD"].iloc[-1] == pytest.approx(100.0, rel=1e-9)


def test_standalone_free_rankl_factor_uses_the_core_reference_competition(sim: Simulator) -> None:
    core = Simulator("bone_remodeling").baseline()
    b_ref = 1 + 1e-3 * core["OPG"] + 3.411764705882353e-2 * 10
    assert sim.parameters()["value"]["B_ref_RANKL"] == pytest.approx(b_ref, rel=1e-5)
    peak = sim.simulate(end=14.4, points=2, changes={"dose_dmab": 60}, selections=["F_RANKL_free"])
    assert peak["F_RANKL_free"].iloc[-1] < 0.15  # ~ 90 % of RANKL neutralised at Cmax
