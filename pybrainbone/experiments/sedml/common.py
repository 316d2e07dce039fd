"""What export and import share: SED-ML constants, KiSAO ids, :class:`SedmlError` and small helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from xml.etree import ElementTree

import libsbml

from pybrainbone.errors import PyBrainBoneError
from pybrainbone.experiments.sedml.compat import libsedml

#: SED-ML level and version we write (libsedml's default is newer: pin it).
SEDML_LEVEL, SEDML_VERSION = 1, 4
#: Namespace of our annotation (model name and what SED-ML has no place for).
NAMESPACE = "https://github.com/pybrainbone/pybrainbone/sedml-annotation"
#: KiSAO ids: CVODE, NLEQ2 and the CVODE settings we pass on.
KISAO_CVODE, KISAO_NLEQ2 = "KISAO_0000019", "KISAO_0000569"
KISAO_RELATIVE_TOLERANCE, KISAO_ABSOLUTE_TOLERANCE = "KISAO_0000209", "KISAO_0000211"
KISAO_MAXIMUM_STEPS = "KISAO_0000415"
TIME_SYMBOL = "urn:sedml:symbol:time"
SBML_LANGUAGE = "urn:sedml:language:sbml.level-3.version-2"
ALL_DATA = "all_data"
SIMULATION_ID = "sim"
#: The XPath prefix of SBML elements in our targets, declared on the SED-ML document (``xmlns:sbml``).
SBML_PREFIX = "sbml"
#: OMEX manifest formats of the entries we write.
OMEX_METADATA_FORMAT = "http://identifiers.org/combine.specifications/omex-metadata"
OMEX_FORMAT = "http://identifiers.org/combine.specifications/omex"
#: OMEX manifest format of the targets sidecar (an internet media type, as the OMEX spec asks).
JSON_FORMAT = "http://purl.org/NET/mediatypes/application/json"
#: Spec fields that neither SED-ML nor our annotation carries: they travel in the targets sidecar.
SIDECAR_FIELDS = ("targets", "measurements")

# libsedml has no KiSAO ontology, so import accepts an explicit list of algorithms. Every one solves the
# deterministic problem we solve (an ODE initial-value problem, or the steady state of the ODEs); we
# solve it with CVODE (or Newton), as tightly as the spec's solver settings ask. Names from KiSAO.
#: Deterministic ODE integrators a uniformTimeCourse may name.
KISAO_TIME_COURSE = {
    "KISAO_0000019": "CVODE",
    "KISAO_0000496": "CVODES",
    "KISAO_0000433": "CVODE-like method",
    "KISAO_0000694": "ODE solver",  # tellurium's generic ODE solver
    "KISAO_0000088": "LSODA",
    "KISAO_0000089": "LSODAR",
    "KISAO_0000560": "LSODA/LSODAR hybrid method",  # COPASI's "deterministic (LSODA)"
    "KISAO_0000071": "LSODE",
    "KISAO_0000094": "Livermore solver",
    "KISAO_0000288": "backward differentiation formula",
    "KISAO_0000280": "Adams-Moulton method",
    "KISAO_0000304": "Radau method",  # COPASI's RADAU5
    "KISAO_0000535": "VODE",
    "KISAO_0000030": "Euler forward method",
    "KISAO_0000261": "Euler method",
    "KISAO_0000032": "explicit fourth-order Runge-Kutta method",
    "KISAO_0000064": "Runge-Kutta based method",
    "KISAO_0000086": "Fehlberg method",
    "KISAO_0000087": "Dormand-Prince method",
    "KISAO_0000321": "Cash-Karp method",
    "KISAO_0000435": "embedded Runge-Kutta 5(4) method",
}
#: Deterministic steady-state solvers a steadyState may name.
KISAO_STEADY_STATE = {
    "KISAO_0000569": "NLEQ2",
    "KISAO_0000568": "NLEQ1",
    "KISAO_0000407": "steady state method",
    "KISAO_0000408": "Newton-type method",
    "KISAO_0000409": "ordinary Newton method",
    "KISAO_0000413": "exact Newton method",
    "KISAO_0000282": "KINSOL",
}
#: Stochastic (and hybrid stochastic) algorithms, refused with a message saying why.
KISAO_STOCHASTIC = {
    "KISAO_0000241": "Gillespie-like method",
    "KISAO_0000029": "Gillespie direct algorithm",
    "KISAO_0000015": "Gillespie first reaction algorithm",
    "KISAO_0000027": "Gibson-Bruck next reaction algorithm",
    "KISAO_0000586": "Gibson-Bruck next reaction algorithm with indexed priority queue",
    "KISAO_0000028": "slow-scale stochastic simulation algorithm",
    "KISAO_0000038": "sorting stochastic simulation algorithm",
    "KISAO_0000039": "tau-leaping method",
    "KISAO_0000040": "Poisson tau-leaping method",
    "KISAO_0000045": "implicit tau-leaping method",
    "KISAO_0000046": "trapezoidal tau-leaping method",
    "KISAO_0000048": "adaptive explicit-implicit tau-leaping method",
    "KISAO_0000074": "binomial tau-leaping method",
    "KISAO_0000081": "estimated midpoint tau-leaping method",
    "KISAO_0000084": "nonnegative Poisson tau-leaping method",
    "KISAO_0000351": "multinomial tau-leaping method",
    "KISAO_0000575": "hybrid tau-leaping method",
    "KISAO_0000319": "Monte Carlo method",
    "KISAO_0000333": "accelerated stochastic simulation algorithm",
    "KISAO_0000231": "Pahle hybrid method",
    "KISAO_0000561": "Pahle hybrid Gibson-Bruck Next Reaction method/Runge-Kutta method",
    "KISAO_0000562": "Pahle hybrid Gibson-Bruck Next Reaction method/LSODA method",
    "KISAO_0000563": "Pahle hybrid Gibson-Bruck Next Reaction method/RK-45 method",
    "KISAO_0000286": "Euler-Maruyama method",
    "KISAO_0000287": "Milstein method",
    "KISAO_0000564": "stochastic Runge-Kutta method",
    "KISAO_0000566": "stochastic second order Runge-Kutta method",
}

_KISAO_ID = re.compile(r"^\s*KISAO[_:]?(\d{1,7})\s*$", re.IGNORECASE)


class SedmlError(PyBrainBoneError):
    """SED-ML or OMEX that cannot be written or read back into a spec; the message names the file.

    Examples
    --------
    >>> check(libsedml.LIBSEDML_INVALID_ATTRIBUTE_VALUE, "the id of model 'model_treated'")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: libsedml could not set the id of model 'model_treated'
    (status -4)
    """


def kisao_id(text: str) -> str:
    """``KISAO_0000019`` for ``KISAO_0000019``, ``KISAO:0000019`` (COPASI's older spelling) or ``kisao_19``.

    Examples
    --------
    >>> kisao_id("KISAO:0000560")
    'KISAO_0000560'
    """
    match = _KISAO_ID.match(text)
    return f"KISAO_{int(match.group(1)):07d}" if match else text.strip()


def check(status: int, what: str) -> None:
    """Raise :class:`SedmlError` naming ``what`` unless a libsedml setter returned success.

    Examples
    --------
    >>> document = libsedml.SedDocument(SEDML_LEVEL, SEDML_VERSION)
    >>> check(document.setName("PTH infusion"), "document name")  # success: nothing to say
    >>> check(document.createModel().setId("2 arms"), "model id")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: libsedml could not set model id (status -4)
    """
    if status != libsedml.LIBSEDML_OPERATION_SUCCESS:
        raise SedmlError(f"libsedml could not set {what} (status {status})")


def log_errors(document: Any, minimum: int) -> list[str]:
    """The one-line messages of ``document``'s error log at severity ``minimum`` or above.

    Examples
    --------
    >>> document = libsedml.readSedMLFromString("<sedML/>")
    >>> [message[:40] for message in log_errors(document, libsedml.LIBSEDML_SEV_ERROR)]
    ['A <document> object must have the requir', 'A <document> object must have the requir']
    """
    log = document.getErrorLog()
    return [
        " ".join(log.getError(i).getMessage().split())
        for i in range(log.getNumErrors())
        if log.getError(i).getSeverity() >= minimum
    ]


def number(value: float) -> str:
    """A float as text that reads back to the same float.

    Examples
    --------
    >>> number(0.1), number(1e-15), number(200000)
    ('0.1', '1e-15', '200000.0')
    >>> float(number(1 / 3)) == 1 / 3
    True
    """
    return repr(float(value))


def annotation(**attributes: str) -> str:
    """A SED-ML ``<annotation>`` holding our ``<pybrainbone>`` element with the non-empty ``attributes``.

    Examples
    --------
    >>> print(annotation(model="bone_remodeling", organism="rat", control=""))
    <annotation><pbb:pybrainbone xmlns:pbb="https://github.com/pybrainbone/pybrainbone/sedml-annotation"
     model="bone_remodeling" organism="rat" /></annotation>
    """
    element = ElementTree.Element(f"{{{NAMESPACE}}}pybrainbone", {k: v for k, v in attributes.items() if v})
    ElementTree.register_namespace("pbb", NAMESPACE)
    return f"<annotation>{ElementTree.tostring(element, encoding='unicode')}</annotation>"


@dataclass(frozen=True)
class SbmlIndex:
    """What kind of SBML element each id names (species, parameter, compartment), for XPath targets.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> index = SbmlIndex(compile_model("bone_remodeling").sbml)
    >>> index.kinds["OBa"], index.kinds["P_PTH_ext"]
    ('species', 'parameter')
    >>> index.value_xpath("P_PTH_ext")
    "/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='P_PTH_ext']/@value"
    """

    sbml: str

    @cached_property
    def namespace(self) -> str:
        """The SBML core namespace URI of the model (what the ``sbml:`` XPath prefix must be bound to).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> index = SbmlIndex(compile_model("bone_remodeling").sbml)
        >>> index.namespace
        'http://www.sbml.org/sbml/level3/version2/core'
        """
        document = libsbml.readSBMLFromString(self.sbml)
        return str(document.getSBMLNamespaces().getURI())

    @cached_property
    def kinds(self) -> dict[str, str]:
        """Each species, parameter and compartment id and its kind (``species_amount``: in amounts).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> index = SbmlIndex(compile_model("bone_remodeling").sbml)
        >>> sorted(set(index.kinds.values()))
        ['compartment', 'parameter', 'species']
        """
        document = libsbml.readSBMLFromString(self.sbml)
        model = document.getModel()
        kinds: dict[str, str] = {}
        for species in model.getListOfSpecies():
            kinds[species.getId()] = "species_amount" if species.getHasOnlySubstanceUnits() else "species"
        for parameter in model.getListOfParameters():
            kinds[parameter.getId()] = "parameter"
        for compartment in model.getListOfCompartments():
            kinds[compartment.getId()] = "compartment"
        return kinds

    def element_xpath(self, sid: str) -> str:
        """XPath of the SBML element ``sid`` names (a SED-ML variable's ``target``).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> index = SbmlIndex(compile_model("bone_remodeling").sbml)
        >>> index.element_xpath("OBa")
        "/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='OBa']"
        >>> index.element_xpath("OBaa")
        Traceback (most recent call last):
        ...
        pybrainbone.experiments.sedml.common.SedmlError: 'OBaa' is not a species, parameter or compartment of
        the SBML model
        """
        kind = self.kinds.get(sid)
        if kind is None:
            raise SedmlError(f"{sid!r} is not a species, parameter or compartment of the SBML model")
        if kind.startswith("species"):
            return f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{sid}']"
        if kind == "compartment":
            return f"/sbml:sbml/sbml:model/sbml:listOfCompartments/sbml:compartment[@id='{sid}']"
        return f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{sid}']"

    def value_xpath(self, sid: str) -> str:
        """XPath of the attribute holding ``sid``'s value (a ``changeAttribute``'s ``target``).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> index = SbmlIndex(compile_model("bone_remodeling").sbml)
        >>> index.value_xpath("OBa")
        "/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='OBa']/@initialConcentration"
        """
        attribute = {
            "species": "initialConcentration",
            "species_amount": "initialAmount",
            "compartment": "size",
            "parameter": "value",
        }[self.kinds.get(sid, "parameter")]
        return f"{self.element_xpath(sid)}/@{attribute}"


def sidecar_name(sedml_location: str) -> str:
    """Location of the targets sidecar of the SED-ML file at ``sedml_location``: ``<stem>.targets.json``.

    The sidecar (JSON: the spec's ``targets`` and ``measurements``, which SED-ML has no place for) goes
    into an OMEX archive next to its SED-ML file; import reads it back from there, or from beside a
    ``.sedml`` file.

    Examples
    --------
    >>> sidecar_name("menopause.sedml")
    'menopause.targets.json'
    >>> sidecar_name("experiments/pth.xml")
    'experiments/pth.targets.json'
    """
    folder, _, name = sedml_location.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return f"{folder}/{stem}.targets.json" if folder else f"{stem}.targets.json"
