"""Names that changed when module file, instance prefix and switch came to share one name.

Before, a pathway could go by three names (``immune.ant``, ids ``cytokines_*``, switch ``on_immune``).
Each pathway module now has one: the file ``<name>.ant`` defines ``model <name>``, the composition
instantiates it as ``<NAME>`` (the same name, upper case where Antimony needs the instance to differ from
the model) and switches it with ``on_<name>``. The old names are not accepted silently (a run under an old
name could be mistaken for a run of the model as it is now): an unknown-name error for one of them says
what it is called today. The bone compartments (``bone_remodeling.ant`` as ``core``, ``bone_matrix.ant``
as the sites ``spine``, ``hip``, ``trab``) have no switch and keep their names.
"""

from __future__ import annotations

import re

#: Module (file) names that changed: old -> new.
MODULES = {
    "gh_igf1": "gh",
    "oxytocin": "oxt",
    "vagal": "vagus",
    "denosumab": "dmab",
    "teriparatide": "tptd",
    "melatonin": "mel",
    "prolactin": "prl",
    "hpg_male": "hpgm",
    "osteocyte": "ocy",
    "romosozumab": "romo",
    "bisphosphonate": "bp",
}

#: Instance prefixes of the composed model's ids that changed: old -> new.
PREFIXES = {"MIN": "MINERAL", "SENS": "SENSORY", "OX": "OREXIN", "vagus": "VAGUS", "cytokines": "IMMUNE"}

#: Pathway switches that changed: old -> new.
SWITCHES = {
    "on_vagal": "on_vagus",
    "on_melatonin": "on_mel",
    "on_prolactin": "on_prl",
    "on_hpg_male": "on_hpgm",
}

_PREFIXED = re.compile(r"(?P<prefix>[A-Za-z]+)_(?P<rest>.+)")


def current_name(name: str) -> str | None:
    """The name an old module, switch or composed-model id has today, or ``None`` if it was not renamed.

    Examples
    --------
    >>> current_name("on_hpg_male"), current_name("cytokines_TNF_rel"), current_name("denosumab")
    ('on_hpgm', 'IMMUNE_TNF_rel', 'dmab')
    >>> current_name("core_BMD") is None
    True
    """
    if name in SWITCHES:
        return SWITCHES[name]
    if name in MODULES:
        return MODULES[name]
    match = _PREFIXED.fullmatch(name)
    if match and match["prefix"] in PREFIXES:
        return f"{PREFIXES[match['prefix']]}_{match['rest']}"
    return None


def renamed_hint(name: str) -> str | None:
    """The sentence an unknown-name error adds for a renamed name (``None`` for any other name).

    Examples
    --------
    >>> print(renamed_hint("on_vagal"))
    'on_vagal' is now called 'on_vagus' (a module's file, instance prefix and switch share one name)
    """
    new = current_name(name)
    if new is None:
        return None
    return f"{name!r} is now called {new!r} (a module's file, instance prefix and switch share one name)"
