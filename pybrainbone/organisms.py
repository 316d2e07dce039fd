"""Organism presets: documented parameter sets that turn the human reference into a rodent.

Rodent bone turns over faster. A preset multiplies every bone-cell rate constant the core declares
(``// @organism_scaled`` in ``models/bone_remodeling.ant``) by one factor κ, which leaves all steady-state
ratios unchanged and speeds every cellular time scale by κ (modules-endocrine.md §6.4;
modules-neural-immune.md §7). Hormone modules are left at human kinetics
(they are fast next to bone either way).

The trabecular sites (the core's ``kout_BV`` and the composition's ``trab_rho``) are the exception: a
rodent preset sets their turnover from histomorphometry of the metaphyseal trabecular bone the rodent
studies measure, BFR/BV = MAR x MS/BS x BS/BV with BS/BV = 2/Tb.Th (Parfitt 1987 nomenclature). That site
turns over several times faster than the cell time-scale factor alone would make it (young rodent
metaphyses still model and remodel). Pathways parameterised from human data only (``// @human_only``,
the mineral module's feedback) are switched off for rodents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pybrainbone.errors import PyBrainBoneError
from pybrainbone.model_text import declared_ids


def _bfr_per_bv(mar_um_per_day: float, ms_per_bs: float, tb_th_um: float) -> float:
    """Tissue turnover BFR/BV (1/day) from mineral apposition rate, mineralising surface and Tb.Th."""
    return mar_um_per_day * ms_per_bs * 2.0 / tb_th_um


#: Young-adult female rat, proximal tibial secondary spongiosa (the Wronski OVX site).
RAT_TRABECULAR_TURNOVER = _bfr_per_bv(mar_um_per_day=1.3, ms_per_bs=0.30, tb_th_um=55.0)
RAT_TRABECULAR_SOURCE = (
    "Assumed: representative sham values of 3-4-month female rats, proximal tibial secondary spongiosa "
    "(MAR ~1.3 um/d, MS/BS ~30 %, Tb.Th ~55 um); BFR/BV = MAR x MS/BS x 2/Tb.Th = 0.014 /day"
)
#: Young-adult female mouse, distal femoral metaphysis (C57BL/6-type).
MOUSE_TRABECULAR_TURNOVER = _bfr_per_bv(mar_um_per_day=1.8, ms_per_bs=0.35, tb_th_um=45.0)
MOUSE_TRABECULAR_SOURCE = (
    "Assumed: representative young-adult (C57BL/6-type) mouse distal femur (MAR ~1.8 um/d, MS/BS ~35 %, "
    "Tb.Th ~45 um); BFR/BV = MAR x MS/BS x 2/Tb.Th = 0.028 /day"
)


@dataclass(frozen=True)
class Organism:
    """A named preset: bone-cell time-scale factor and the evidence for it.

    Examples
    --------
    >>> rat = organism("rat")
    >>> rat.bone_time_factor, round(rat.trabecular_turnover, 5)
    (4.0, 0.01418)
    """

    name: str
    bone_time_factor: float
    source: str
    #: Turnover of the trabecular bone-volume site (1/day), replacing ``bone_time_factor * kout_BV``.
    trabecular_turnover: float | None = None
    trabecular_source: str = ""

    def changes(self, model: str, parameters: Mapping[str, float]) -> dict[str, float]:
        """New values of the organism-scaled rates of ``model`` (``parameters``: id → reference value).

        Which rates those are, the model declares (``// @organism_scaled``, ``// @organism_trabecular``
        in the bone core; a composition inherits them under the core's instance prefix and may declare its
        own, e.g. ``trab_rho`` for its trabecular site). Switches declared ``// @human_only`` (a pathway
        parameterised from human data only, such as the mineral module's feedback) are set to 0 for
        every other organism.

        Examples
        --------
        >>> changes = organism("rat").changes("bone_remodeling", {"D_OBu": 7.0e-4, "K_D4_PTH": 150.0})
        >>> {k: round(v, 6) for k, v in changes.items()}  # rates scaled, binding constants left alone
        {'D_OBu': 0.0028}
        >>> organism("human").changes("bone_remodeling", {"D_OBu": 7.0e-4})
        {}
        """
        out: dict[str, float] = {}
        if self.bone_time_factor == 1.0 and self.trabecular_turnover is None:
            return out  # the reference organism: nothing to read or change
        if self.bone_time_factor != 1.0:
            scaled = set(declared_ids(model, "organism_scaled"))
            out = {pid: v * self.bone_time_factor for pid, v in parameters.items() if pid in scaled}
        if self.trabecular_turnover is not None:
            trabecular = set(declared_ids(model, "organism_trabecular"))
            out.update({pid: self.trabecular_turnover for pid in parameters if pid in trabecular})
        human_only = set(declared_ids(model, "human_only"))
        out.update({pid: 0.0 for pid in parameters if pid in human_only})
        return out


ORGANISMS: Mapping[str, Organism] = MappingProxyType(
    {
        "human": Organism("human", 1.0, "reference: adult female (DESIGN.md §2.6)"),
        "rat": Organism(
            "rat",
            4.0,
            "tau_human/tau_rat ~ 3-5 (Baron, Tross & Vignery 1984 Anat Rec 208:137; remodelling cycle "
            "3-6 weeks vs 4-6 months; modules-neural-immune.md §7)",
            trabecular_turnover=RAT_TRABECULAR_TURNOVER,
            trabecular_source=RAT_TRABECULAR_SOURCE,
        ),
        "mouse": Organism(
            "mouse",
            8.0,
            "tau_human/tau_mouse ~ 5-10 (Jilka 2013 review: remodelling cycle 2-3 weeks; "
            "modules-endocrine.md §6.4)",
            trabecular_turnover=MOUSE_TRABECULAR_TURNOVER,
            trabecular_source=MOUSE_TRABECULAR_SOURCE,
        ),
    }
)


def organism(name: str) -> Organism:
    """The preset called ``name``; a clear error listing the known ones otherwise.

    Examples
    --------
    >>> organism("mouse").bone_time_factor
    8.0
    >>> organism("dog")
    Traceback (most recent call last):
    pybrainbone.errors.PyBrainBoneError: unknown organism 'dog'; known presets: human, rat, mouse
    """
    try:
        return ORGANISMS[name]
    except KeyError:
        raise PyBrainBoneError(f"unknown organism {name!r}; known presets: {', '.join(ORGANISMS)}") from None
