"""Organism presets: documented parameter sets that turn the human reference into a rodent.

Rodent bone turns over faster. A preset multiplies every bone-cell rate constant of the core by one
factor κ, which leaves all steady-state ratios unchanged and speeds every cellular time scale by κ
(modules-endocrine.md §6.4; modules-neural-immune.md §7). Hormone modules are left at human kinetics
(they are fast next to bone either way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from pybrainbone.errors import PyBrainBoneError

#: Core rate constants scaled together (time-like; scaling all keeps every steady state).
BONE_CELL_RATES = (
    "D_OBu",
    "D_OBp",
    "A_OBa",
    "D_OCp",
    "A_OCa",
    "k_res_TGFb",
    "D_TGFb",
    "kout_BMD",
    "kout_BMD_hip",
    "kout_BV",
)


@dataclass(frozen=True)
class Organism:
    """A named preset: bone-cell time-scale factor and the evidence for it."""

    name: str
    bone_time_factor: float
    source: str
    extra: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def changes(self, parameters: Mapping[str, float]) -> dict[str, float]:
        """New values for the bone-cell rates among ``parameters`` (id → reference value).

        Ids may carry the composed model's ``core_`` prefix.
        """
        out = {
            pid: value * self.bone_time_factor
            for pid, value in parameters.items()
            if pid.removeprefix("core_") in BONE_CELL_RATES and self.bone_time_factor != 1.0
        }
        out.update({k: v for k, v in self.extra.items() if k in parameters})
        return out


ORGANISMS: Mapping[str, Organism] = MappingProxyType(
    {
        "human": Organism("human", 1.0, "reference: adult female (DESIGN.md §2.6)"),
        "rat": Organism(
            "rat",
            4.0,
            "tau_human/tau_rat ~ 3-5 (Baron, Tross & Vignery 1984 Anat Rec 208:137; remodelling cycle "
            "3-6 weeks vs 4-6 months; modules-neural-immune.md §7)",
        ),
        "mouse": Organism(
            "mouse",
            8.0,
            "tau_human/tau_mouse ~ 5-10 (Jilka 2013 review: remodelling cycle 2-3 weeks; "
            "modules-endocrine.md §6.4)",
        ),
    }
)


def organism(name: str) -> Organism:
    """The preset called ``name``; a clear error listing the known ones otherwise."""
    try:
        return ORGANISMS[name]
    except KeyError:
        raise PyBrainBoneError(f"unknown organism {name!r}; known presets: {', '.join(ORGANISMS)}") from None
