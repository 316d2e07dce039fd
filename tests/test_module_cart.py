"""CART / MC4R module on its own."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator


@pytest.fixture(scope="module")
def cart() -> Simulator:
    return Simulator("cart")


def test_cart_loss_raises_rankl(cart: Simulator) -> None:
    ko = cart.steady_state({"CART_KO": 1})
    assert ko["CART_rel"] == pytest.approx(0.0, abs=1e-9)
    assert ko["F_RANKL"] > 1.2


def test_leptin_raises_cart_and_lowers_rankl(cart: Simulator) -> None:
    ob = cart.steady_state({"leptin_in": 0})
    assert ob["CART_rel"] < 0.2  # nearly abolished in ob/ob (Elefteriou 2005)
    assert ob["F_RANKL"] > 1.2  # high resorption in ob/ob despite low sympathetic tone
    high = cart.steady_state({"leptin_in": 3})
    assert high["CART_rel"] > 1.0 and high["F_RANKL"] < 1.0
    assert cart.steady_state({"leptin_in": 0, "w_leptin_cart": 0})["F_RANKL"] == pytest.approx(1.0, abs=1e-9)


def test_mc4r_loss_raises_cart_and_lowers_rankl(cart: Simulator) -> None:
    # MC4R deficiency: high bone mass from low resorption through higher CART (Ahn 2006, sheet §3)
    ko = cart.steady_state({"MC4R_KO": 1})
    assert ko["CART_rel"] > 1.5
    assert ko["F_RANKL"] < 0.85
    # MC4R effect runs through CART: no CART, no MC4R effect
    assert cart.steady_state({"MC4R_KO": 1, "CART_KO": 1})["F_RANKL"] == pytest.approx(
        cart.steady_state({"CART_KO": 1})["F_RANKL"], rel=1e-9
    )
