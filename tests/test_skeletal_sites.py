"""Skeletal sites of the composed model (bone_matrix.ant instances spine, hip, trab).

The sites read the core's turnover markers; their bone volume has no restoring force, so steady states
hold it (``// @accumulates``); rodent presets give the trabecular site rodent turnover.
"""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone.model_text import declared_ids
from pybrainbone.simulator import Simulator

SITES = ("spine", "hip", "trab")


@pytest.fixture(scope="module")
def axis() -> Simulator:
    return Simulator("brain_bone_axis")


def test_every_site_is_driven_by_the_core_markers(axis: Simulator) -> None:
    names = [f"{s}_{x}" for s in SITES for x in ("formation_in", "resorption_in")]
    course = axis.simulate(
        end=365.25,
        points=3,
        changes={"HPA_pred_dose": 7.5},
        selections=[*names, "core_P1NP_rel", "core_CTX_rel"],
    )
    for s in SITES:
        np.testing.assert_allclose(course[f"{s}_formation_in"], course["core_P1NP_rel"], rtol=1e-12)
        np.testing.assert_allclose(course[f"{s}_resorption_in"], course["core_CTX_rel"], rtol=1e-12)


def test_bone_volume_is_declared_as_accumulating() -> None:
    assert set(declared_ids("brain_bone_axis", "accumulates")) == {f"{s}_V_m_rel" for s in SITES}


def test_steady_state_holds_bone_volume_and_rests_everything_else(axis: Simulator) -> None:
    # Long after menopause resorption exceeds formation for good: there is no steady state of bone volume,
    # so it is held at its prepared value while the hormones, cells and the rest of each site come to rest.
    changes = {"HPG_menopause": 1, "HPG_t_menopause": -36525}
    held = axis.steady_state(changes, selections=[f"{s}_V_m_rel" for s in SITES])
    reference = axis.initial_values()
    for s in SITES:
        assert held[f"{s}_V_m_rel"] == pytest.approx(reference[f"{s}_V_m_rel"], rel=1e-12)
    state = axis.steady_state(changes, selections=axis.state_ids)
    rates = axis.rates({**changes, **{k: float(v) for k, v in state.items()}})
    free = [sid for sid in axis.state_ids if not sid.endswith("_V_m_rel")]
    scale = np.maximum(np.abs(state[free].to_numpy()), 1e-12)
    assert np.max(np.abs(rates[free].to_numpy()) / scale) < 1e-9
    assert state["spine_RS_rel"] > 2.0  # the remodelling space has opened
    # With a per-cycle deficit (g_BMU > 0) the held bone volume would still be falling.
    deficit = {**changes, "spine_g_BMU": 0.1}
    with_deficit = axis.steady_state(deficit, selections=axis.state_ids)
    assert axis.rates({**deficit, **{k: float(v) for k, v in with_deficit.items()}})["spine_V_m_rel"] < 0


def test_rodent_preset_sets_trabecular_turnover_only() -> None:
    human, rat = Simulator("brain_bone_axis"), Simulator("brain_bone_axis", organism="rat")
    h, r = human.parameters()["value"], rat.parameters()["value"]
    assert r["trab_rho"] == pytest.approx(1.3 * 0.30 * 2 / 55.0)
    assert r["trab_k_F"] == pytest.approx(4.0 * h["trab_k_F"])
    assert r["trab_time_factor"] == pytest.approx(4.0)  # rodent mineralisation lag of days, not weeks
    assert r["spine_rho"] == h["spine_rho"] and r["hip_rho"] == h["hip_rho"]
    # and the rat's trabecular site is at rest at its reference with its own turnover
    course = rat.simulate(end=3652.5, points=2, selections=["trab_BV", "trab_BMD", "trab_osteoid"])
    np.testing.assert_allclose(course[["trab_BV", "trab_BMD"]].to_numpy(), 100.0, rtol=1e-9)
    assert course["trab_osteoid"].iloc[0] < 10.0


def test_denosumab_closes_the_remodelling_space(axis: Simulator) -> None:
    # From the premenopausal reference, denosumab: resorption falls at once, formation follows over the
    # formation period, so the remodelling space closes and the spine gains about the volume it held.
    # Read at 9 months, before the second dose wanes (the core's denosumab effect wears off by month 6,
    # sooner than in FREEDOM; see experiments/denosumab.yaml).
    course = axis.simulate(
        end=365.25,
        points=13,
        changes={"Dmab_dose_dmab": 60},
        selections=["spine_RS", "spine_BV", "spine_BMD"],
    )
    start, nine_months = course.iloc[0], course.iloc[9]
    closed = start["spine_RS"] - nine_months["spine_RS"]
    assert closed > 0.4 * start["spine_RS"]
    assert nine_months["spine_BV"] - 100 == pytest.approx(closed, rel=0.05)
    assert nine_months["spine_BMD"] > nine_months["spine_BV"]  # older bone carries more mineral
