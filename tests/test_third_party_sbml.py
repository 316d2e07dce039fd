"""Third-party SBML (BioModels, read from shared/reference/biomodels) loads and reproduces its paper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator, load_sbml
from tests.conftest import load_data


def test_lemaire_2004_steady_state_and_stability(biomodels_dir: Path) -> None:
    ref = load_data("lemaire2004_reference.yaml")
    sim = Simulator(load_sbml(biomodels_dir / ref["file"]))
    state = sim.baseline()
    for name, value in ref["steady_state_pM"].items():
        assert state[name] == pytest.approx(value, rel=ref["tolerance_rel"])
    assert np.all(sim.eigenvalues().real < 0)
