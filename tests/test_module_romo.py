"""Romosozumab module (models/romo.ant): drug-free rest, PK against the label, the OpenBoneMin
(Eudy 2015) equations, monthly dosing by a re-arming event, sclerostin engagement and total sclerostin.

The findings and their sources are listed in tests/data/romo_reference.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from pybrainbone import Simulator

REFERENCE = json.loads((Path(__file__).parent / "data" / "romo_reference.json").read_text(encoding="utf-8"))
OUT = ["Romo_conc", "Scl_binding", "Scl_total_rel", "A_depot"]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("romo")


@pytest.fixture(scope="module")
def single_dose(sim: Simulator):  # type: ignore[no-untyped-def]
    return sim.simulate(end=150.0, points=3601, changes={"dose_romo": 210.0, "n_romo": 1.0}, selections=OUT)


def test_no_drug_by_default(sim: Simulator) -> None:
    assert sim.parameters()["value"]["dose_romo"] == 0.0
    course = sim.simulate(end=50 * 365.25, points=11, selections=OUT)
    assert (course[["Romo_conc", "Scl_binding", "A_depot"]] == 0.0).all().all()
    assert (course["Scl_total_rel"] == 1.0).all()


def test_single_210_mg_dose_matches_the_label(single_dose) -> None:  # type: ignore[no-untyped-def]
    assert "single_dose_pk" in REFERENCE["findings"]
    conc = single_dose["Romo_conc"]
    cmax, tmax = conc.max(), conc.idxmax()
    auc = float(np.trapezoid(conc.to_numpy(), conc.index.to_numpy()))
    assert cmax == pytest.approx(22.2, abs=1.0)  # ug/mL
    assert 4.0 <= tmax <= 6.0  # median 5 days (2-7)
    assert auc == pytest.approx(389.0, abs=20.0)  # ug.day/mL
    half = conc.loc[tmax:]
    t_half = float(half.index[np.argmax(half.to_numpy() < cmax / 2)]) - tmax
    assert 9.0 <= t_half <= 16.0, t_half  # effective half-life 12.8 days (a check, not fitted)


def test_monthly_dosing_reaches_steady_state_with_little_accumulation(sim: Simulator) -> None:
    course = sim.simulate(
        end=365.25, points=8767, changes={"dose_romo": 210.0, "n_romo": 12.0, "t_romo": 0.0}, selections=OUT
    )
    conc = course["Romo_conc"]
    tau = 30.4375
    peaks = [conc.loc[k * tau : (k + 1) * tau - 0.05].max() for k in range(12)]
    assert max(peaks) < 2 * peaks[0]
    assert peaks[3] == pytest.approx(peaks[11], rel=0.05), "steady state by month 3 (within 3 %)"
    after = sim.simulate(end=730.5, points=2, changes={"dose_romo": 210.0, "n_romo": 12.0}, selections=OUT)
    assert after["Romo_conc"].iloc[-1] < 1e-6, "no 13th dose"


def test_equations_are_openbonemin_eudy_2015(sim: Simulator) -> None:
    # OpenBoneMin cabone2.cpp @8221dde sclerostin-antibody block, in days, in the Michaelis-Menten form with
    # this module's CL, Vmax, ka and F: an independent solve of the same equations.
    p = sim.parameters()["value"]
    vc, vp, q, km = p["Vc_romo"], p["Vp_romo"], p["Q_romo"], p["Km_romo"]
    assert (vc, vp, q, km) == (2.9, 3.29, 0.467, 0.453)
    cl, vmax, ka, f = p["CL_romo"], p["Vmax_romo"], p["ka_romo"], p["F_romo"]
    kin, kout, k0 = 3.725e3, 25.0, 0.197

    def rhs(_t: float, y: np.ndarray) -> list[float]:
        sc, cen, per, scl = y
        cp = cen / vc
        return [
            -ka * sc,
            ka * sc - vmax * cp / (km + cp) - cl * cp - q * cp + q * per / vp,
            q * cp - q * per / vp,
            kin - kout * scl - (k0 - kout) * scl * cp / (km + cp),
        ]

    days = np.array([2.0, 5.0, 14.0, 28.0, 60.0])
    ref = solve_ivp(rhs, (0, 60), [210 * f, 0, 0, 149.0], t_eval=days, rtol=1e-10, atol=1e-12, method="LSODA")
    ours = sim.simulate(end=60.0, points=601, changes={"dose_romo": 210.0, "n_romo": 1.0}, selections=OUT)
    idx = np.rint(days * 10).astype(int)
    np.testing.assert_allclose(ours["Romo_conc"].to_numpy()[idx], ref.y[1] / vc, rtol=1e-4)
    np.testing.assert_allclose(ours["Scl_total_rel"].to_numpy()[idx], ref.y[3] / 149.0, rtol=1e-4)


def test_engagement_and_total_sclerostin(single_dose) -> None:  # type: ignore[no-untyped-def]
    row = single_dose.loc[5.0]
    assert row["Scl_binding"] == pytest.approx(row["Romo_conc"] / (0.453 + row["Romo_conc"]), rel=1e-12)
    assert row["Scl_binding"] > 0.95
    assert single_dose["Scl_total_rel"].max() > 5.0, "antibody-bound sclerostin is cleared slowly"
    assert single_dose["Scl_total_rel"].iloc[-1] == pytest.approx(1.0, abs=0.01)
