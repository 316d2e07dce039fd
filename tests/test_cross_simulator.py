"""A second simulator (COPASI via basico) agrees with libRoadRunner on our SBML."""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone import Simulator

basico = pytest.importorskip("basico", reason="copasi-basico is in the 'test' extra")


@pytest.mark.parametrize("change", [{"P_PTH_ext": 100.0}, {"P_RANKL_ext": 1e4}, {"P_OPG_ext": 2e5}])
def test_copasi_matches_roadrunner_time_course(core: Simulator, change: dict[str, float]) -> None:
    ours = core.simulate(end=365, points=74, changes=change, selections=["OBp", "OBa", "OCa", "BMD", "BV"])
    dm = basico.load_model(core.model.sbml)
    try:
        for name, value in change.items():
            basico.set_parameters(name, initial_value=value, model=dm)
        theirs = basico.run_time_course(
            duration=365,
            intervals=73,
            model=dm,
            use_initial_values=True,
            use_sbml_id=True,
            r_tol=1e-10,
            a_tol=1e-16,
        )
    finally:
        basico.remove_datamodel(dm)
    for column in ours.columns:
        other = theirs[column].to_numpy()
        rel = np.max(np.abs(ours[column].to_numpy() - other) / np.abs(ours[column].to_numpy()))
        assert rel <= 1e-4, f"{column}: COPASI and libRoadRunner differ by {rel:.2e} (limit 1e-4)"
