"""Mineral module (models/mineral.ant): the calcium/phosphate side of Peterson & Riggs 2010 (OpenBoneMin).

Reference: OpenBoneMin's own equations, transcribed below in its units (hours, mmol, pmol) from
inst/OpenBoneMin.cpp with its bone-cell states held at their initial values, so every hourly rate the
module converts to days is checked against the code; its README teriparatide figure (digitised); and
the directions of the responses the paper's abstract and clinical sources describe. Numbers in
tests/data/mineral_reference.json.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import libsbml
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import root

from pybrainbone import Simulator, compile_model
from pybrainbone.testing import assert_at_rest, assert_reference_factors_are_one

DATA = json.loads((Path(__file__).parent / "data" / "mineral_reference.json").read_text(encoding="utf-8"))
CODE = DATA["openbonemin"]["code_parameters"]["values"]
INIT = DATA["openbonemin"]["code_initial_values"]["values"]
LIT = DATA["openbonemin"]["code_constants"]["values"]
FIG = DATA["readme_teriparatide_figure"]
QUAL = DATA["qualitative"]

#: OpenBoneMin state -> module state, and the factor from the code's unit to the module's.
STATES = {
    "P": ("Ca_amt", 1.0),
    "ECCPhos": ("PO4_amt", 1.0),
    "IntraPO": ("PO4_intra", 1.0),
    "PhosGut": ("PO4_gut", 1.0),
    "T": ("Ca_gut", 1.0),
    "R": ("R_abs", 1.0),
    "HAp": ("HAp", 1.0),
    "PTH": ("PTH_amt", 1.0),
    "S": ("PT_pool", 1.0),
    "PTmax": ("PT_max", 1.0),
    "B": ("CTR_amt", 1.0),
    "AOH": ("AOH", 24.0),  # pmol/h -> pmol/day
    "TERISC": ("TPTD_sc", 1.0),
}
CODE_STATES = list(STATES)
MODULE_STATES = [m for m, _ in STATES.values()]
TO_MODULE = np.array([f for _, f in STATES.values()])
H = 24.0  # hours per day


# ---- OpenBoneMin's mineral equations in its own units ------------------------------------------------------
def openbonemin_rhs(
    y: np.ndarray,
    oc_rel: float = 1.0,
    ob_rel: float = 1.0,
    ca_intake: float = 1.0,
    gland: float = 1.0,
    ca_infusion_per_h: float = 0.0,
    gfr: float | None = None,
) -> np.ndarray:
    """dy/dt (per hour) of inst/OpenBoneMin.cpp's calcium/phosphate/PTH/calcitriol states, bone cells fixed.

    OC = OC_0 * oc_rel with the M/OC ratio at its reference (MOCratioEff = 1), OB = OB0 * ob_rel, EST = 1,
    GFR constant. ``gland`` multiplies SPTH and ``ca_infusion_per_h`` adds to dP/dt: the module's two
    interventions that the code lacks, applied where the module applies them.
    """
    c = CODE
    P, ECCPhos, IntraPO, PhosGut, T, R, HAp, PTH, S, PTmax, B, AOH, TERISC = y
    V1 = c["V1"]
    GFR = INIT["GFR"] if gfr is None else gfr
    CaConc0, PTHconc0, Calcitriol0 = INIT["P"] / V1, INIT["PTH"] / V1, INIT["B"] / V1
    CaConc, PTHconc, C2, C8 = P / V1, PTH / V1, ECCPhos / V1, B / V1
    Q_0, T_0, OC_0 = INIT["Q"], INIT["T"], INIT["OC"]
    # bone exchange
    T13 = (c["CaDay"] / 24) / Q_0
    T15 = c["CaDay"] / (CaConc0 * V1 * 24)
    g = c["J14OCgam"]
    J14OC50 = np.exp(np.log((c["J14OCmax"] * OC_0**g / T13) - OC_0**g) / g)
    OC = OC_0 * oc_rel
    OCeqn = c["J14OCmax"] * OC**g / (OC**g + J14OC50**g)
    J14 = T13 * Q_0 * (1 - c["FracJ14"]) + OCeqn * Q_0 * c["FracJ14"]
    J15 = T15 * P * (1 - c["FracJ15"]) + T15 * P * c["FracJ15"] * HAp
    J41, J42 = LIT["hydroxyapatite_P_per_Ca"] * J14, LIT["hydroxyapatite_P_per_Ca"] * J15
    kLShap = 1 / c["HApMRT"]
    kHApIn = kLShap / c["OBtot0"]
    # phosphate effect on 1-alpha-hydroxylase
    thr, pg = LIT["PO4_threshold_mM"], c["PhosEffGam"]
    PO4inhPTH = (C2 / thr) ** c["PO4inhPTHgam"]
    PhosEffMax = (c["PhosEff0"] - 1) * (thr**pg + c["PhosEff50"] ** pg) / (c["PhosEff0"] * thr**pg)
    PhosEff = c["PhosEff0"] - PhosEffMax * c["PhosEff0"] * C2**pg / (C2**pg + c["PhosEff50"] ** pg)
    PhosEffect = PhosEff if thr < C2 else 1.0  # the code: if (C2 > 1.2)
    a = c["AlphOHgam"]
    T66 = (c["T67"] ** a + PTHconc0**a) / PTHconc0**a
    T68 = T66 * PTHconc**a / (c["T67"] ** a * PO4inhPTH + PTHconc**a)
    SE = c["T65"] * T68 * PhosEffect
    n = c["CaPOgam"]
    T36 = c["T33"] + (c["T34"] - c["T33"]) * (C8**n / (c["T35"] ** n + C8**n))
    T37 = c["T34"] - (c["T34"] - c["T33"]) * (C8**n / (c["T35"] ** n + C8**n))
    # kidney, calcium
    fu, fdep = LIT["fraction_unbound_Ca"], LIT["fraction_Ca_PTH_dependent"]
    CaFilt = fu * fdep * GFR * CaConc
    mtmEST = (1 - c["maxTmESTkid"]) / (1 - 0.1)
    tmEST = 1 - mtmEST + mtmEST * 1.0
    ReabsMax = (
        tmEST
        * (fu * fdep * GFR * CaConc0 - LIT["ReabsMax_offset_mmol_per_h"])
        * (c["Reabs50"] + CaConc0)
        / CaConc0
    )
    T17 = PTHconc0 * c["T16"] - PTHconc0
    ReabsPTHeff = c["T16"] * PTHconc / (PTHconc + T17)
    CaReabsActive = ReabsMax * CaConc / (c["Reabs50"] + CaConc) * ReabsPTHeff
    T10 = c["T7"] * C8 / (C8 + c["T9"])
    J27 = max((2 - T10) * (CaFilt - CaReabsActive), 0.0)
    # parathyroid gland pool
    T72 = LIT["S_calcitriol_setpoint_pM"] * (CaConc0 / CaConc) ** c["ScaEffGam"]
    T74 = np.tanh(c["T71"] * (C8 - T72))
    T75 = c["T70"] * (0.85 * (1 + T74) + 0.15)
    T76 = c["T70"] * (0.85 * (1 - T74) + 0.15)
    # kidney, phosphate; gut and cells
    f88 = LIT["fraction_PO4_filtered"]
    J48 = max(f88 * GFR * C2 - c["T46"] * f88 * GFR, 0.0)
    J53, J54, J56 = c["T52"] * PhosGut, c["T49"] * C2, c["T55"] * IntraPO
    # gut calcium
    T29 = (c["T28"] * T_0 - c["T310"] * T_0) / c["T310"]
    T31 = c["T28"] * T / (T + T29)
    J40 = T31 * T * (R / 0.5) / (T + c["T81"]) + c["T87"] * T
    T85 = c["T77"] * R ** c["T80"] / (R ** c["T80"] + c["T81"] ** c["T80"])
    # gland capacity and PTH secretion
    cg = c["CtriolPTgam"]
    Ctriol50 = np.exp(
        np.log((c["CtriolMax"] - c["CtriolMin"]) * Calcitriol0**cg / (c["CtriolMax"] - 1) - Calcitriol0**cg)
        / cg
    )
    CtriolPTeff = c["CtriolMax"] - (c["CtriolMax"] - c["CtriolMin"]) * C8**cg / (C8**cg + Ctriol50**cg)
    s5 = c["T59"]
    INparenCa = (c["T58"] - c["T61"]) * CaConc0**s5 / (
        c["T58"] - LIT["SPTH_reference_pmol_per_h"]
    ) - CaConc0**s5
    T60 = np.exp(np.log(INparenCa) / s5)
    T63 = c["T58"] - (c["T58"] - c["T61"]) * CaConc**s5 / (CaConc**s5 + T60**s5)
    SPTH = T63 * (S / 0.5) * PTmax * gland
    TERIPKIN = TERISC * c["TERICL"] / c["TERIVC"]
    return np.array(
        [
            J14 - J15 - J27 + J40 + ca_infusion_per_h,
            J41 - J42 - J48 + J53 - J54 + J56,
            J54 - J56,
            c["OralPhos"] * c["F12"] - J53,
            c["OralCa"] * ca_intake * T85 - J40,
            T36 * (1 - R) - T37 * R,
            kHApIn * c["OBtot0"] * ob_rel - kLShap * HAp,
            SPTH - c["kout"] * PTH + TERIPKIN,
            (1 - S) * T76 - S * T75,
            c["PTout"] * CtriolPTeff - c["PTout"] * PTmax,
            AOH - c["T69"] * B,
            SE - c["T64"] * AOH,
            -TERIPKIN,
        ]
    )


def code_initial() -> np.ndarray:
    return np.array([INIT[s] for s in CODE_STATES])


def code_steady_state(**inputs: float) -> np.ndarray:
    """Steady state of the transcription: integrate 100 years from the code's initial values, then Newton."""
    y0 = code_initial()
    run = solve_ivp(
        lambda _t, y: openbonemin_rhs(y, **inputs),
        (0, 100 * 8766),
        y0,
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
    )
    solved = root(
        lambda y: openbonemin_rhs(y, **inputs) / np.maximum(np.abs(y), 1.0), run.y[:, -1], tol=1e-14
    )
    assert solved.success, solved.message
    return np.asarray(solved.x, dtype=float)


def code_course(
    y0: np.ndarray, hours: np.ndarray, doses_pmol: dict[float, float], **inputs: float
) -> np.ndarray:
    """Time course in hours with boluses into TERISC (as mrgsolve's dosing records), at the ``hours`` grid."""
    out = np.empty((len(hours), len(y0)))
    edges = sorted({0.0, *doses_pmol, float(hours[-1])})
    y = y0.copy()
    for start, stop in itertools.pairwise(edges):
        if start in doses_pmol:
            y[CODE_STATES.index("TERISC")] += doses_pmol[start] * CODE["TERIF"]
        grid = hours[(hours >= start) & (hours <= stop)]
        seg = solve_ivp(
            lambda _t, v: openbonemin_rhs(v, **inputs),
            (start, stop),
            y,
            method="LSODA",
            t_eval=grid,
            rtol=1e-10,
            atol=1e-10,
            first_step=1e-6,
        )
        index = np.searchsorted(hours, seg.t)
        out[index] = seg.y.T
        y = seg.y[:, -1].copy()
    return out


# ---- fixtures ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("mineral")


@pytest.fixture(scope="module")
def code_ss() -> np.ndarray:
    return code_steady_state()


@pytest.fixture(scope="module")
def teriparatide(sim: Simulator) -> dict[int, Any]:
    """sim_teri(dose = c(20, 40), dur = 9): 10 s.c. doses 24 h apart, output every 0.1 h to 240 h."""
    return {
        dose: sim.simulate(
            end=10.0,
            points=2401,
            changes={"dose_tptd_sc": float(dose), "n_tptd": 10.0, "tau_tptd": 1.0},
            selections=["PTH_pM", "Ca_plasma", "TPTD_sc", "calcitriol_pM"],
        )
        for dose in (20, 40)
    }


# ---- (1) builds, (2) rests ------------------------------------------------------------------------------
def test_compiles_with_no_errors_and_no_unit_warnings() -> None:
    report = compile_model("mineral").validation
    assert report.errors == ()
    assert report.unit_warnings == ()


def test_pth_calcitriol_and_the_depot_are_amount_species_in_a_unit_volume() -> None:
    """Only substance units, so the compartment's size never enters; 1 L so that amount = concentration."""
    model = libsbml.readSBMLFromString(compile_model("mineral").sbml).getModel()
    assert model.getCompartment("ECF_amounts").getSize() == 1.0
    assert model.getParameter("V1").getValue() == 14.0
    for species_id in ("PTH_amt", "CTR_amt", "TPTD_sc"):
        species = model.getSpecies(species_id)
        assert species.getHasOnlySubstanceUnits(), species_id
        assert species.getCompartment() == "ECF_amounts"
        assert not any(rule.getVariable() == species_id for rule in model.getListOfRules())
    transfer = model.getReaction("TPTD_absorption")
    assert [r.getSpecies() for r in transfer.getListOfReactants()] == ["TPTD_sc"]
    assert [p.getSpecies() for p in transfer.getListOfProducts()] == ["PTH_amt"]


def test_rests_at_its_reference_for_50_years(sim: Simulator) -> None:
    assert_at_rest(sim, years=50, tolerance=1e-4)  # 0.01 %
    assert_reference_factors_are_one(sim, tolerance=1e-9)
    assert np.all(sim.eigenvalues().real < 0)
    assert sim.initial_values()["TPTD_sc"] == 0.0 and sim.parameters()["value"]["dose_tptd_sc"] == 0.0


# ---- (3) the source: OpenBoneMin's equations, hourly -----------------------------------------------------
#: module parameter -> (code parameter, factor from the code's value to the module's)
CONVERSIONS = {
    "V1": ("V1", 1.0),
    "Ca_turnover": ("CaDay", 1.0),  # the code's CaDay is per day already (it divides by 24)
    "frac_J14_OC": ("FracJ14", 1.0),
    "J14_OC_max": ("J14OCmax", H),
    "J14_OC_gam": ("J14OCgam", 1.0),
    "frac_J15_HAp": ("FracJ15", 1.0),
    "HAp_MRT": ("HApMRT", 1 / H),
    "Reabs50": ("Reabs50", 1.0),
    "Reabs_PTH_max": ("T16", 1.0),
    "Reabs_EST_max": ("maxTmESTkid", 1.0),
    "Exc_CTR_max": ("T7", 1.0),
    "Exc_CTR_50": ("T9", 1.0),
    "PO4_Tm": ("T46", 1.0),
    "Ca_oral": ("OralCa", H),
    "gut_entry_max": ("T77", 1.0),
    "R_abs_gam": ("T80", 1.0),
    "R_abs_50": ("T81", 1.0),
    "K_gut_Ca": ("T81", 1.0),
    "J40_max": ("T28", H),
    "J40_ref": ("T310", H),
    "k_gut_passive": ("T87", H),
    "k_R_min": ("T33", H),
    "k_R_max": ("T34", H),
    "R_CTR_50": ("T35", 1.0),
    "R_CTR_gam": ("CaPOgam", 1.0),
    "PO4_oral": ("OralPhos", H),
    "F_PO4": ("F12", 1.0),
    "k_PO4_gut": ("T52", H),
    "CL_PO4_in": ("T49", H),
    "k_PO4_out": ("T55", H),
    "PhosEff0": ("PhosEff0", 1.0),
    "PhosEff50": ("PhosEff50", 1.0),
    "PhosEffGam": ("PhosEffGam", 1.0),
    "PO4inhPTHgam": ("PO4inhPTHgam", 1.0),
    "k_AOH": ("T64", H),
    "AOH_syn": ("T65", H * H),
    "AOH_PTH_50": ("T67", 1.0),
    "AOH_PTH_gam": ("AlphOHgam", 1.0),
    "k_CTR": ("T69", H),
    "k_PTH": ("kout", H),
    "SPTH_max": ("T58", H),
    "SPTH_min": ("T61", H),
    "SPTH_gam": ("T59", 1.0),
    "k_S": ("T70", H),
    "S_CTR_slope": ("T71", 1.0),
    "S_Ca_gam": ("ScaEffGam", 1.0),
    "k_PTmax": ("PTout", H),
    "PTmax_CTR_max": ("CtriolMax", 1.0),
    "PTmax_CTR_min": ("CtriolMin", 1.0),
    "PTmax_CTR_gam": ("CtriolPTgam", 1.0),
    "CL_tptd": ("TERICL", H),
    "V_tptd": ("TERIVC", 1.0),
    "F_tptd": ("TERIF", 1.0),
}


def test_parameters_are_the_code_values_converted_to_days(sim: Simulator) -> None:
    values = sim.parameters()["value"]
    wrong = {
        p: (values[p], CODE[code] * factor)
        for p, (code, factor) in CONVERSIONS.items()
        if values[p] != pytest.approx(CODE[code] * factor, rel=1e-12)
    }
    assert not wrong, wrong
    assert values["GFR"] == pytest.approx(INIT["GFR"] * H, rel=1e-12)
    assert values["Reabs_offset"] == pytest.approx(LIT["ReabsMax_offset_mmol_per_h"] * H, rel=1e-12)
    assert values["SPTH_ref"] == pytest.approx(LIT["SPTH_reference_pmol_per_h"] * H, rel=1e-12)
    reference_amounts = {
        "Ca_amt_0": "P",
        "PTH_amt_0": "PTH",
        "CTR_amt_0": "B",
        "Ca_gut_0": "T",
        "Q_bone_0": "Q",
    }
    assert {p: values[p] for p in reference_amounts} == {p: INIT[s] for p, s in reference_amounts.items()}


def test_steady_state_is_openbonemins(sim: Simulator, code_ss: np.ndarray) -> None:
    ours = sim.initial_values()[MODULE_STATES].to_numpy()
    np.testing.assert_allclose(ours, code_ss * TO_MODULE, rtol=1e-8, atol=1e-12)
    # ... close to (not exactly at) the code's own initial values: within 0.04 %
    np.testing.assert_allclose(ours, code_initial() * TO_MODULE, rtol=4e-4)
    state = sim.initial_values()
    V1 = CODE["V1"]
    assert state["Ca_plasma"] == pytest.approx(INIT["P"] / V1, rel=1e-4)  # 2.35 mM
    assert state["PTH_pM"] == pytest.approx(INIT["PTH"] / V1, rel=4e-4)  # 3.85 pM
    assert state["calcitriol_pM"] == pytest.approx(INIT["B"] / V1, rel=1e-4)  # 90 pM
    assert state["PO4_plasma"] == pytest.approx(INIT["ECCPhos"] / V1, rel=1e-4)  # 1.2 mM
    # daily calcium balance at rest: bone exchange 88 mmol/day each way (CaDay), gut = urine
    assert state["J_Ca_bone_out"] == pytest.approx(CODE["CaDay"], rel=1e-12)
    assert state["J_Ca_bone_in"] == pytest.approx(CODE["CaDay"], rel=1e-4)
    assert state["J_Ca_gut"] == pytest.approx(state["J_Ca_urine"] - state["J_Ca_bone_net"], rel=1e-9)


def test_teriparatide_dose_enters_the_depot_in_pmol(sim: Simulator, teriparatide: dict[int, Any]) -> None:
    mw = DATA["openbonemin"]["teriparatide_molar_mass"]
    assert 20.0 / sim.parameters()["value"]["MW_tptd"] == pytest.approx(mw["amt_teri_20_pmol"], rel=1e-6)
    k = CODE["TERICL"] / CODE["TERIVC"]  # per hour
    depot = teriparatide[20]["TPTD_sc"]
    assert depot.iloc[1] == pytest.approx(mw["amt_teri_20_pmol"] * np.exp(-k * 0.1), rel=1e-6)
    assert depot.loc[0.5:0.99].max() < 1e-3 * mw["amt_teri_20_pmol"]
    assert depot.iloc[-1] > 0.9 * mw["amt_teri_20_pmol"] * np.exp(-k * 24)  # the 10th dose, given at 216 h


def test_teriparatide_course_is_openbonemins(teriparatide: dict[int, Any], code_ss: np.ndarray) -> None:
    hours = np.round(np.linspace(0, 240, 2401), 10)
    amt = DATA["openbonemin"]["teriparatide_molar_mass"]["amt_teri_20_pmol"] / 20
    for dose in (20, 40):
        course = code_course(code_ss, hours, {24.0 * i: dose * amt for i in range(10)})
        ours = teriparatide[dose]
        pth = course[:, CODE_STATES.index("PTH")] / CODE["V1"]
        ca = course[:, CODE_STATES.index("P")] / CODE["V1"]
        np.testing.assert_allclose(ours["PTH_pM"].to_numpy()[1:], pth[1:], rtol=1e-4)
        np.testing.assert_allclose(ours["Ca_plasma"].to_numpy(), ca, rtol=1e-6)


def _per_dose(series: Any) -> list[tuple[float, float]]:
    hours = series.index.to_numpy() * 24
    values = series.to_numpy()
    peaks = []
    for i in range(10):
        window = (hours >= 24 * i) & (hours < 24 * (i + 1))
        j = np.flatnonzero(window)[np.argmax(values[window])]
        peaks.append((float(values[j]), float(hours[j] - 24 * i)))
    return peaks


def test_teriparatide_reproduces_the_readme_figure(teriparatide: dict[int, Any]) -> None:
    tol = FIG["reading_tolerance"]
    pth40, pth20 = _per_dose(teriparatide[40]["PTH_pM"]), _per_dose(teriparatide[20]["PTH_pM"])
    assert pth40[0][0] == pytest.approx(FIG["PTH_peak_40ug_pM"], abs=tol["PTH_pM"])
    assert all(t <= FIG["PTH_peak_time_after_dose_h"]["max"] for _, t in pth40 + pth20)
    assert FIG["PTH_peak_20ug_lower_bound_pM"] < pth20[0][0] < pth40[0][0]
    between = teriparatide[40]["PTH_pM"].to_numpy()[(np.arange(2401) % 240) > 120]  # second half of each day
    low, high = FIG["PTH_between_doses_pM"]["low"], FIG["PTH_between_doses_pM"]["high"]
    assert low < between.min() and between.max() < high
    for dose in (20, 40):
        ca = _per_dose(teriparatide[dose]["Ca_plasma"])
        figure = FIG[f"Ca_peaks_{dose}ug_mM"]
        assert teriparatide[dose]["Ca_plasma"].iloc[0] == pytest.approx(
            FIG["Ca_at_time_0_mM"], abs=tol["Ca_mM"]
        )
        assert ca[0][0] == pytest.approx(figure[0], abs=tol["Ca_mM"])  # first dose: bone cells not yet moved
        assert ca[0][1] == pytest.approx(FIG["Ca_peak_time_after_first_dose_h"], abs=tol["time_h"])
        # later doses: the figure's peaks climb (its bone cells respond to PTH); here they stay at dose 1
        assert all(abs(v - f) < 0.01 for (v, _), f in zip(ca, figure, strict=True))


# ---- (3) directions the sources describe, with the code's magnitudes --------------------------------------
def _module_vs_code(sim: Simulator, changes: dict[str, float], **code_inputs: float) -> Any:
    ours = sim.steady_state(changes)
    code = code_steady_state(**code_inputs)
    np.testing.assert_allclose(ours[MODULE_STATES].to_numpy(), code * TO_MODULE, rtol=1e-6, atol=1e-9)
    return ours / sim.initial_values()


def _check(rel: Any, expect: dict[str, str]) -> None:
    for variable, direction in expect.items():
        assert (rel[variable] > 1.0) if direction == "up" else (rel[variable] < 1.0), (
            variable,
            rel[variable],
        )


def test_low_calcium_intake_raises_pth_and_calcitriol(sim: Simulator) -> None:
    feedback = QUAL["calcium_sensing_feedback"]
    rel = _module_vs_code(sim, {"Ca_intake": 0.5}, ca_intake=0.5)
    _check(rel, feedback["expect_low_intake"])
    assert rel["Ca_plasma"] > 0.97, "calcium is defended: < 3 % fall at half the intake"
    # calcitriol: up over the first days, then (phosphate just above 1.2 mM) a steady state slightly below
    first_days = sim.simulate(end=5.0, points=6, changes={"Ca_intake": 0.5}, selections=["calcitriol_pM"])
    _check(first_days.loc[2.0:5.0].min() / sim.initial_values(), {"calcitriol_pM": "up"})
    assert 0.99 < rel["calcitriol_pM"] < 1.0 and rel["PO4_plasma"] > 1.0


def test_hypoparathyroidism_lowers_calcium_and_raises_phosphate(sim: Simulator) -> None:
    rel = _module_vs_code(sim, {"PT_gland": 0.1}, gland=0.1)
    _check(rel, QUAL["hypoparathyroidism"]["expect"])
    assert rel["calcitriol_pM"] < 1.0


def test_hyperparathyroidism_raises_calcium_with_high_pth(sim: Simulator) -> None:
    rel = _module_vs_code(sim, {"PT_gland": 3.0}, gland=3.0)
    _check(rel, QUAL["primary_hyperparathyroidism"]["expect"])


def test_renal_insufficiency_raises_phosphate(sim: Simulator) -> None:
    gfr = sim.parameters()["value"]["GFR"]
    rel = _module_vs_code(sim, {"GFR": 0.5 * gfr}, gfr=0.5 * INIT["GFR"])
    _check(rel, QUAL["renal_insufficiency"]["expect"])


def test_more_resorption_releases_calcium_and_suppresses_pth(sim: Simulator) -> None:
    rel = _module_vs_code(sim, {"resorption_in": 2.0}, oc_rel=2.0)
    assert rel["J_Ca_bone_out"] > 1.0 and rel["Ca_plasma"] > 1.0 and rel["PTH_pM"] < 1.0
    rel = _module_vs_code(sim, {"formation_in": 2.0}, ob_rel=2.0)
    assert rel["J_Ca_bone_in"] > 1.0 and rel["Ca_plasma"] < 1.0 and rel["PTH_pM"] > 1.0


@pytest.mark.parametrize(("rate", "expect"), [(24.0, "expect_infusion"), (-24.0, "expect_chelation")])
def test_calcium_infusion_and_chelation_move_pth_the_other_way(
    sim: Simulator, rate: float, expect: str
) -> None:
    # 1 mmol/h into (or out of) plasma for 24 h from day 1 (a test input, not a protocol from a source)
    course = sim.simulate(
        end=3.0,
        points=301,
        changes={"Ca_infusion": rate, "t_Ca_inf": 1.0, "t_Ca_inf_end": 2.0},
        selections=["Ca_plasma", "PTH_pM", "calcitriol_pM"],
    )
    before = course.loc[:0.99].to_numpy()
    np.testing.assert_allclose(before, np.broadcast_to(course.iloc[0].to_numpy(), before.shape), rtol=1e-9)
    rel = course.loc[2.0] / course.iloc[0]
    _check(rel, QUAL["calcium_sensing_feedback"][expect])
    hours = np.round(np.linspace(0, 72, 301), 10)
    y = code_steady_state()
    before = code_course(y, hours[hours <= 24], {})
    during = code_course(
        before[-1], hours[(hours >= 24) & (hours <= 48)] - 24, {}, ca_infusion_per_h=rate / H
    )
    code_pth = during[-1, CODE_STATES.index("PTH")] / CODE["V1"]
    assert course.loc[2.0, "PTH_pM"] == pytest.approx(code_pth, rel=1e-5)
    if rate < 0:  # the calcitriol response of a day's chelation, with the code's magnitude
        assert course.loc[2.0, "calcitriol_pM"] == pytest.approx(
            during[-1, CODE_STATES.index("B")] / CODE["V1"], rel=1e-5
        )
