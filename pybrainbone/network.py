"""The map of the brain-bone network: which module acts on which core port or module, with sign.

Edges come from the composed model itself, so the map cannot drift from the wiring:

* cross-links are the lines of ``models/brain_bone_axis.ant`` carrying a ``// network: SOURCE -> TARGET,
  SIGN, mechanism`` comment;
* port edges are read from the port rules (``core.f_X := A.F_X^on_a * ...``); their sign is measured:
  the factor's response to its module's main signal rising by 10 % in the standalone module.

>>> from pybrainbone.network import network_edges
>>> edges = network_edges()
>>> bool(((edges.source == "HPG") & (edges.target == "core.f_RANKL") & (edges.sign == "-")).any())
True
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from pybrainbone.build import model_path
from pybrainbone.provenance import submodel_instances
from pybrainbone.simulator import Simulator

_LINK = re.compile(r"^\s*(\w+)\.(\w+)\s*:=.*//\s*network:\s*(\S+)\s*->\s*(\w+)\s*,\s*([+-])\s*,\s*(.+?)\s*$")
_PORT = re.compile(r"^\s*core\.(f_\w+)\s*:=\s*(.+?)\s*(//.*)?$")
_FACTOR = re.compile(r"(\w+)\.(F_\w+)\^(on_\w+)")
_SWITCH_USE = re.compile(r"\^\s*(link_\w+|on_\w+)")
_SWITCH_VALUE = re.compile(r"^\s*(link_\w+|on_\w+)\s*=\s*([0-9.eE+-]+)\s+dimensionless")

#: The signal whose rise defines the sign of a module's effect on bone, and how to raise it standalone.
MAIN_SIGNAL: dict[str, tuple[str, str, float]] = {
    # module: (signal, parameter raised to move it, value)
    "hpa": ("cortisol_rel", "pred_dose", 5.0),
    "hpg": ("E2_rel", "E2_dose", 1.0),
    "hpt": ("T3_rel", "T4_dose", 50.0),
    "gh_igf1": ("IGF1_rel", "GH_dose", 100.0),
    "oxytocin": ("OXT_rel", "OXT_exo", 1.0),
    "sns": ("SNS_rel", "stress_in", 1.5),
    "npy": ("NPY_hyp_rel", "leptin_in", 0.5),
    "cart": ("CART_rel", "leptin_in", 1.5),
    "vagal": ("vagal_rel", "VNS", 0.5),
    "immune": ("TNF_rel", "inflammation", 1.5),
}


def network_edges(composed: str = "brain_bone_axis") -> pd.DataFrame:
    """All edges: ``source``, ``target``, ``sign`` (+/-), ``kind`` (link/port), ``via``, ``mechanism`` and
    ``on`` (whether the edge's switch is on by default; off-by-default edges are hypotheses to test)."""
    path = model_path(composed)
    instances = submodel_instances(path, composed)
    lines = path.read_text(encoding="utf-8").splitlines()
    switches = {m.group(1): float(m.group(2)) != 0.0 for m in map(_SWITCH_VALUE.match, lines) if m}
    rows: list[dict[str, object]] = []
    for line in lines:
        link = _LINK.match(line)
        if link:
            target_instance, target_input, source, _, sign, mechanism = link.groups()
            used = _SWITCH_USE.search(line)
            rows.append(
                {
                    "source": source.split(".")[0],
                    "target": target_instance,
                    "sign": sign,
                    "kind": "link",
                    "via": f"{source} -> {target_instance}.{target_input}",
                    "mechanism": mechanism,
                    "on": switches.get(used.group(1), True) if used else True,
                }
            )
            continue
        port = _PORT.match(line)
        if port:
            for instance, factor, _switch in _FACTOR.findall(port.group(2)):
                module = instances[instance]
                rows.append(
                    {
                        "source": instance,
                        "target": f"core.{port.group(1)}",
                        "sign": _port_sign(module, factor),
                        "kind": "port",
                        "via": f"{instance}.{factor}",
                        "mechanism": _signal_text(module),
                        "on": switches.get(_switch, True),
                    }
                )
    return pd.DataFrame(rows, columns=["source", "target", "sign", "kind", "via", "mechanism", "on"])


def _signal_text(module: str) -> str:
    signal = MAIN_SIGNAL.get(module)
    return f"sign when {signal[0]} rises" if signal else ""


def _port_sign(module: str, factor: str) -> str:
    """'+' if the factor rises with the module's main signal, '-' if it falls, '0' if neither."""
    if module not in MAIN_SIGNAL:
        return "?"
    signal, parameter, value = MAIN_SIGNAL[module]
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
