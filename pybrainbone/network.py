"""The map of the brain-bone network: which module acts on which core port or module, with sign.

Edges come from the composed model itself (read by :mod:`pybrainbone.model_text`), so the map cannot
drift from the wiring:

* cross-links are the rules of the composition carrying a ``// network: SOURCE -> TARGET, SIGN, mechanism``
  comment;
* port edges are read from the port rules (``core.f_X := A.F_X^on_a * ...``); their sign is measured:
  the factor's response to the module's declared main signal (``// @main_signal``) rising, in the
  standalone module. A module whose factor reaches a port without declaring a main signal is an error.

>>> from pybrainbone.network import network_edges
>>> edges = network_edges()
>>> bool(((edges.source == "HPG") & (edges.target == "core.f_RANKL") & (edges.sign == "-")).any())
True
"""

from __future__ import annotations

import functools

import pandas as pd

from pybrainbone.errors import ModelBuildError
from pybrainbone.model_text import ModuleText, read_module
from pybrainbone.simulator import Simulator

COLUMNS = ["source", "target", "sign", "kind", "via", "mechanism", "on"]


def network_edges(composed: str = "brain_bone_axis") -> pd.DataFrame:
    """All edges: ``source``, ``target``, ``sign`` (+/-), ``kind`` (link/port), ``via``, ``mechanism`` and
    ``on`` (whether the edge's switch is on by default; off-by-default edges are hypotheses to test).

    Examples
    --------
    >>> edges = network_edges()
    >>> list(edges.columns)
    ['source', 'target', 'sign', 'kind', 'via', 'mechanism', 'on']
    >>> sorted(set(edges.kind)), set(edges.sign) <= {"+", "-", "0"}
    (['link', 'port'], True)
    """
    text = read_module(composed)
    rows: list[dict[str, object]] = []
    for link in text.links:
        rows.append(
            {
                "source": link.source.split(".")[0],
                "target": link.target,
                "sign": link.sign,
                "kind": "link",
                "via": f"{link.source} -> {link.target}.{link.target_input}",
                "mechanism": link.mechanism,
                "on": text.switches.get(link.switch, 1.0) != 0.0 if link.switch else True,
            }
        )
    for port, factors in text.ports.items():
        for factor in factors:
            module = text.instances[factor.instance]
            signal, parameter, value = _main_signal(module)
            rows.append(
                {
                    "source": factor.instance,
                    "target": f"{text.port_instance}.{port}",
                    "sign": _port_sign(module, factor.factor, signal, parameter, value),
                    "kind": "port",
                    "via": f"{factor.instance}.{factor.factor}",
                    "mechanism": f"sign when {signal} rises",
                    "on": text.switches.get(factor.switch, 1.0) != 0.0,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def _main_signal(module: str) -> tuple[str, str, float]:
    declared = read_module(module).declared("main_signal")
    if len(declared) != 3:
        raise ModelBuildError(
            f"models/{module}.ant: its factors reach a core port, so it must declare "
            "'// @main_signal <signal> <parameter> <value>' (the network map measures signs with it)"
        )
    signal, parameter, value = declared
    return signal, parameter, float(value)


def _port_sign(module: str, factor: str, signal: str, parameter: str, value: float) -> str:
    """'+' if the factor rises with the module's main signal, '-' if it falls, '0' if neither."""
    sim = _standalone(module)
    course = sim.simulate(end=60.0, points=2, changes={parameter: value}, selections=[signal, factor])
    d_signal = course[signal].iloc[-1] - 1.0
    d_factor = course[factor].iloc[-1] - 1.0
    if abs(d_factor) < 1e-9 or abs(d_signal) < 1e-9:
        return "0"
    return "+" if d_factor * d_signal > 0 else "-"


@functools.lru_cache(maxsize=32)
def _standalone(module: str) -> Simulator:
    # One compiled simulator per module and process, however many edges ask.
    return Simulator(module)


def module_systems(composed: str = "brain_bone_axis") -> dict[str, str]:
    """Instance -> the system its module declares (``// @system``), for drawing the network.

    Examples
    --------
    >>> systems = module_systems()
    >>> systems["core"], systems["HPA"], systems["SNS"]
    ('bone', 'endocrine', 'neural')
    """
    text = read_module(composed)
    return {
        instance: (read_module(m).declared("system") or ("endocrine",))[0]
        for instance, m in text.instances.items()
    }


def wiring_problems(composed: str = "brain_bone_axis") -> list[str]:
    """What is wrong with a composition's wiring (empty when nothing is): every port the core declares
    (``@ports``) is formed, every factor a port rule reads is declared by its module (``@outputs``), and
    every declared output of an instanced module reaches a port, and each switched pathway goes by one
    name (:func:`naming_problems`).

    Examples
    --------
    >>> wiring_problems()
    []
    >>> wiring_problems("bone_remodeling")  # a single module has no ports to wire
    ['bone_remodeling: no port rules (core.f_X := ...)']
    """
    text = read_module(composed)
    problems: list[str] = []
    if text.port_instance is None:
        return [f"{composed}: no port rules (core.f_X := ...)"]
    core = read_module(text.instances[text.port_instance])
    for port in core.declared("ports"):
        if port not in text.ports:
            problems.append(f"{composed}: port {text.port_instance}.{port} is not wired")
    used: dict[str, set[str]] = {}
    for port, factors in text.ports.items():
        for factor in factors:
            used.setdefault(factor.instance, set()).add(factor.factor)
            outputs = read_module(text.instances[factor.instance]).declared("outputs")
            if factor.factor not in outputs:
                problems.append(
                    f"{composed}: {factor.instance}.{factor.factor} feeds {port} but "
                    f"models/{text.instances[factor.instance]}.ant does not declare it in '@outputs'"
                )
    for instance, module in text.instances.items():
        for output in read_module(module).declared("outputs"):
            if output not in used.get(instance, set()):
                problems.append(f"{composed}: {instance}.{output} (declared in @outputs) reaches no port")
    return problems + naming_problems(text)


def naming_problems(text: ModuleText) -> list[str]:
    """Pathways of a composition that go by more than one name.

    A switched pathway has one name: its file ``<name>.ant`` (defining ``model <name>``), its instance
    (the same name in any case: Antimony refuses an instance named exactly like its model) and its switch
    ``on_<name>``. The port instance (the bone core) and modules without a switch (the skeletal sites)
    are compartments, not pathways, and are not checked.

    Examples
    --------
    >>> naming_problems(read_module("brain_bone_axis"))
    []
    """
    problems = []
    for port, factors in text.ports.items():
        for factor in factors:
            module = text.instances[factor.instance]
            names = {factor.instance.lower(), module, factor.switch.removeprefix("on_")}
            if factor.switch.startswith("on_") and len(names) > 1:
                problems.append(
                    f"{text.name}: {factor.instance}.{factor.factor} (port {port}) goes by "
                    f"{factor.instance!r}, models/{module}.ant and {factor.switch!r}; give file, instance "
                    "and switch one name (docs/modelling-conventions.md)"
                )
    return sorted(set(problems))
