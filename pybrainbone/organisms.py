"""Organism presets: documented parameter sets that turn the human reference into a rodent.

The models' own values are the human reference. A preset changes three kinds of values for another
species:

* the bone-cell time scale (one factor κ over every declared rate, below);
* the turnover of the trabecular site the rodent studies measure (below);
* single parameters measured in that species (receptor mix on bone cells, the strength of sympathetic
  drive, hormone kinetics, drug pharmacology), each with its own value, unit and source, in the curated
  table ``data/organisms.yaml`` (:func:`load_species_values`).

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

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pybrainbone.errors import ModelBuildError, PyBrainBoneError
from pybrainbone.model_text import declared_ids, instance_prefixes, read_module
from pybrainbone.paths import organisms_file
from pybrainbone.yaml_files import read_yaml


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
class SpeciesValue:
    """One module parameter's value in one organism, with its unit and the evidence for it.

    Examples
    --------
    >>> value = load_species_values()["mouse"]["sns.k_leptin"]
    >>> value.module, value.parameter, value.unit, round(value.value, 2)
    ('sns', 'k_leptin', 'per_day', 20.17)
    >>> value.source.split(";")[0]
    'Ahren et al. 2000 Int J Obes 24:1579'
    """

    organism: str
    module: str
    parameter: str
    value: float
    unit: str
    source: str

    @property
    def key(self) -> str:
        """``module.parameter``, as the table writes it.

        Examples
        --------
        >>> load_species_values()["rat"]["hpa.g_cort"].key
        'hpa.g_cort'
        """
        return f"{self.module}.{self.parameter}"


_ENTRY_FIELDS = ("value", "unit", "source")


def _species_value(organism_name: str, key: Any, entry: Any, origin: str) -> SpeciesValue:
    where = f"{origin}: {organism_name}.{key}"
    module, dot, parameter = str(key).partition(".")
    if not dot or not module or not parameter or "." in parameter:
        raise ModelBuildError(f"{where}: write the key as <module>.<parameter>, e.g. sns.k_leptin")
    if not isinstance(entry, dict):
        raise ModelBuildError(f"{where}: give a mapping with {', '.join(_ENTRY_FIELDS)}")
    unknown = sorted(set(entry) - set(_ENTRY_FIELDS))
    missing = [f for f in _ENTRY_FIELDS if f not in entry]
    if unknown or missing:
        raise ModelBuildError(
            f"{where}: fields must be exactly {', '.join(_ENTRY_FIELDS)} "
            f"(unknown: {unknown or 'none'}, missing: {missing or 'none'})"
        )
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelBuildError(f"{where}: value must be a finite number, got {value!r}")
    for field in ("unit", "source"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise ModelBuildError(f"{where}: {field} must be a non-empty text")
    try:
        records = read_module(module).parameters
    except (FileNotFoundError, PyBrainBoneError):
        raise ModelBuildError(f"{where}: there is no module {module!r} in models/") from None
    if parameter not in records:
        raise ModelBuildError(f"{where}: module {module!r} has no parameter {parameter!r}")
    return SpeciesValue(
        organism_name,
        module,
        parameter,
        float(value),
        entry["unit"].strip(),
        " ".join(entry["source"].split()),
    )


def load_species_values(path: Path | None = None) -> Mapping[str, Mapping[str, SpeciesValue]]:
    """The curated species-specific parameter values: organism → ``module.parameter`` → value.

    ``human`` has no entries: the models' own values are the human reference, so a human value is changed
    in the model file, with its source, not here.

    Examples
    --------
    >>> values = load_species_values()
    >>> "human" in values, sorted(values) == sorted(set(values) - {"human"})
    (False, True)
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     bad = Path(folder) / "organisms.yaml"
    ...     _ = bad.write_text("mouse:\\n  sns.no_such: {value: 1, unit: per_day, source: x}\\n")
    ...     load_species_values(bad)
    Traceback (most recent call last):
    pybrainbone.errors.ModelBuildError: ...: mouse.sns.no_such: module 'sns' has no parameter 'no_such'
    """
    path = path or organisms_file()
    return _load_species_values(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_species_values(path: Path, _mtime: int) -> Mapping[str, Mapping[str, SpeciesValue]]:
    data = read_yaml(path, ModelBuildError, "organism table") or {}
    origin = str(path)
    if not isinstance(data, dict):
        raise ModelBuildError(f"{origin}: expected a mapping organism -> module.parameter -> entry")
    out: dict[str, Mapping[str, SpeciesValue]] = {}
    for name, entries in data.items():
        if name == "human":
            raise ModelBuildError(
                f"{origin}: human: the models' own values are the human reference; "
                "change a human value in its model file, with its source"
            )
        if name not in ORGANISMS:
            raise ModelBuildError(
                f"{origin}: unknown organism {name!r}; known presets: {', '.join(ORGANISMS)}"
            )
        if not isinstance(entries, dict):
            raise ModelBuildError(f"{origin}: {name}: expected a mapping module.parameter -> entry")
        values = {str(k): _species_value(name, k, v, origin) for k, v in entries.items()}
        out[name] = MappingProxyType(values)
    return MappingProxyType(out)


@dataclass(frozen=True)
class Organism:
    """A named preset: bone-cell time-scale factor, trabecular turnover and species-measured values.

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
        every other organism. Last, the values measured in this species (:func:`load_species_values`)
        replace the module parameters they name, wherever the module is instantiated in ``model``.

        Examples
        --------
        >>> changes = organism("rat").changes("bone_remodeling", {"D_OBu": 7.0e-4, "K_D4_PTH": 150.0})
        >>> {k: round(v, 6) for k, v in changes.items()}  # rates scaled, binding constants left alone
        {'D_OBu': 0.0028}
        >>> organism("human").changes("bone_remodeling", {"D_OBu": 7.0e-4})
        {}
        >>> round(organism("mouse").changes("brain_bone_axis", {"SNS_k_leptin": 4.892})["SNS_k_leptin"], 2)
        20.17
        """
        out: dict[str, float] = {}
        if self.name == "human":
            return out  # the reference organism: nothing to read or change
        if self.bone_time_factor != 1.0:
            scaled = set(declared_ids(model, "organism_scaled"))
            out = {pid: v * self.bone_time_factor for pid, v in parameters.items() if pid in scaled}
        if self.trabecular_turnover is not None:
            trabecular = set(declared_ids(model, "organism_trabecular"))
            out.update({pid: self.trabecular_turnover for pid in parameters if pid in trabecular})
        human_only = set(declared_ids(model, "human_only"))
        out.update({pid: 0.0 for pid in parameters if pid in human_only})
        for value in self.species_values().values():
            for prefix in instance_prefixes(model, value.module):
                if f"{prefix}{value.parameter}" in parameters:
                    out[f"{prefix}{value.parameter}"] = value.value
        return out

    def species_values(self) -> Mapping[str, SpeciesValue]:
        """The parameter values measured in this organism (``data/organisms.yaml``), by ``module.parameter``.

        Examples
        --------
        >>> sorted(organism("human").species_values())
        []
        >>> "sns.k_leptin" in organism("rat").species_values()
        True
        """
        return load_species_values().get(self.name, MappingProxyType({}))


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
