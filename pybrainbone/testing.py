"""A small pytest plugin for module tests: one compiled simulator per model, and the checks every module
must pass (at rest at its reference, every factor 1 there).

Use it from a ``conftest.py`` with ``pytest_plugins = ["pybrainbone.testing"]``; then a test asks for
the ``simulator`` fixture:

    def test_cart_loss_raises_rankl(simulator):
        cart = simulator("cart")
        assert cart.steady_state({"CART_KO": 1})["F_RANKL"] > 1.2

>>> from pybrainbone import Simulator
>>> assert_at_rest(Simulator("cart"), years=1)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from pybrainbone.simulator import Simulator

__all__ = ["assert_at_rest", "assert_reference_factors_are_one", "simulator"]


def assert_at_rest(sim: Simulator, years: float = 50.0, tolerance: float = 1e-4) -> None:
    """The reference state stays put: every state within ``tolerance`` (relative) over ``years``.

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> assert_at_rest(Simulator("bone_remodeling"), years=5)
    >>> assert_at_rest(Simulator("bone_remodeling", organism="rat"), years=5)
    """
    initial = sim.initial_values()[sim.state_ids].to_numpy()
    course = sim.simulate(end=years * 365.25, points=51, selections=sim.state_ids).to_numpy()
    drift = float(np.max(np.abs(course - initial) / np.maximum(np.abs(initial), 1e-30)))
    assert drift < tolerance, (
        f"{sim.name}: largest relative drift over {years:g} years is {drift:.3g} (limit {tolerance:g})"
    )


def assert_reference_factors_are_one(sim: Simulator, tolerance: float = 1e-12) -> None:
    """Every effect factor (``F_*``, ``f_*``) and relative signal (``*_rel``) is 1 at the reference.

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> assert_reference_factors_are_one(Simulator("bone_remodeling"))
    """
    state = sim.initial_values()
    names = [v for v in sim.output_ids if re.search(r"(^|_)[fF]_|_rel$", v)]
    off = {n: float(state[n]) for n in names if abs(float(state[n]) - 1.0) > tolerance}
    assert names and not off, f"{sim.name}: not 1 at the reference: {off}"


@pytest.fixture(scope="session")
def simulator() -> Iterator[Callable[[str], Simulator]]:
    """``simulator(name)``: the model's simulator, compiled (or loaded from the cache) once per session."""
    cache: dict[str, Simulator] = {}

    def get(name: str) -> Simulator:
        if name not in cache:
            cache[name] = Simulator(name)
        return cache[name]

    yield get
