"""The one reader of the module files' text: what each Antimony module declares beyond its equations.

A module file says, in comments the package reads (docs/modelling-conventions.md, "Declarations"):

* ``// @source <text>``: the source of the parameters below it; a parameter line's own ``Source: ...``,
  ``Assumed: ...`` or ``Estimated: ...`` (written by ``pybrainbone apply-estimates``) comment wins;
* ``// @main_signal <signal> <parameter> <value>``: the signal whose rise defines the sign of the module's
  effect on bone, and the intervention that raises it when the module runs alone (the network map
  measures the signs with it);
* ``// @outputs <F_...> ...``: the factors the module offers to the bone core's ports;
* ``// @system neural|endocrine|immune|drug|bone``: where the network diagram draws it;
* ``// @ports <f_...> ...``, ``// @organism_scaled <rate> ...``, ``// @organism_trabecular <rate>``,
  ``// @plot <variable> ...``: the core's effect ports, the rate constants a rodent preset scales, the
  trabecular-site turnover a rodent preset sets from histomorphometry, and what ``simulate --plot``
  shows by default;

and a composition says which instance is which module (``HPA: hpa()``), which cross-links it makes
(``// network: SOURCE -> TARGET, SIGN, mechanism`` on the link's rule), how each core port is formed
(``core.f_X := A.F_X^on_a * ...``) and the default of each switch (``on_*``, ``link_*``).

The comment block that opens a module file is its description (written into the SBML model's notes,
see :func:`module_description`). Nothing else in the package parses ``.ant`` text.

>>> interface = read_module("hpa")
>>> interface.declared("main_signal")
('cortisol_rel', 'pred_dose', '5')
>>> read_module("brain_bone_axis").instances["HPA"]
'hpa'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pybrainbone.errors import ModelBuildError
from pybrainbone.paths import model_path

_MODEL_START = re.compile(r"^\s*(?:model|module)\s+\*?\s*(\w+)\s*(?:\((?P<args>[^)]*)\)?)?")
_MODEL_END = re.compile(r"^\s*end\b")
_BLOCK_SOURCE = re.compile(r"^\s*//\s*@source\s+(.+?)\s*$")
_DECLARATION = re.compile(r"^\s*//\s*@(?P<key>[a-z_]+)\s+(?P<values>.+?)\s*$")
_ASSIGNMENT = re.compile(r"^\s*(?:const\s+|var\s+)?([A-Za-z_]\w*)\s*=(?!=)")
_INLINE_SOURCE = re.compile(r"\b(Source|Assumed|Estimated)\s*:\s*(.+)$", re.IGNORECASE)
_INSTANCE = re.compile(r"^\s*(\w+)\s*:\s*(\w+)\s*\(\s*\)")
_LINK = re.compile(r"^\s*(\w+)\.(\w+)\s*:=.*//\s*network:\s*(\S+)\s*->\s*(\w+)\s*,\s*([+-])\s*,\s*(.+?)\s*$")
_PORT = re.compile(r"^\s*(\w+)\.(f_\w+)\s*:=\s*(.+?)\s*(//.*)?$")
_FACTOR = re.compile(r"(\w+)\.(F_\w+)\^(on_\w+)")
_SWITCH_USE = re.compile(r"\^\s*(link_\w+|on_\w+)")
#: A link's own switch is its ``link_`` exponent; other ``on_`` exponents in the rule select a source
#: (the sex-selected estradiol reads ``HPG.E2_rel^(1 - on_hpgm)``).
_LINK_SWITCH = re.compile(r"\^\s*(link_\w+)")
_SWITCH_VALUE = re.compile(r"^\s*(link_\w+|on_\w+)\s*=\s*([0-9.eE+-]+)\s+dimensionless")
#: Declarations a module may make (anything else under ``// @`` is a typo and is refused).
DECLARATIONS = frozenset(
    {
        "accumulates",
        "human_only",
        "main_signal",
        "outputs",
        "ports",
        "organism_scaled",
        "organism_trabecular",
        "plot",
        "system",
    }
)


@dataclass(frozen=True)
class ParameterRecord:
    """Where one parameter is defined and what its file says about it.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "toy.ant"
    >>> _ = path.write_text(
    ...     "model toy()\\n"
    ...     "  // @source Assumed: test values\\n"
    ...     "  k_toy = 1 per_day  // signal turnover\\n"
    ...     "  g_toy = 0.5 dimensionless  // apoptosis exponent. Source: Smith 2001\\n"
    ...     "end\\n")
    >>> records = parse_module(path, "toy").parameters
    >>> records["k_toy"]
    ParameterRecord(line=3, description='signal turnover', source='Assumed: test values')
    >>> records["g_toy"].source
    'Smith 2001'
    >>> tmp.cleanup()
    """

    line: int
    description: str
    source: str


@dataclass(frozen=True)
class Link:
    """A cross-link of a composition: ``target.input := source^switch  // network: ...``.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "axis.ant"
    >>> _ = path.write_text(
    ...     "model axis()\\n"
    ...     "  link_stress = 0 dimensionless\\n"
    ...     "  HPA.drive := core.CTX_rel^link_stress"
    ...     "  // network: core.CTX_rel -> HPA, +, bone loss as stress\\n"
    ...     "end\\n")
    >>> parse_module(path, "axis").links
    (Link(target='HPA', target_input='drive', source='core.CTX_rel', sign='+', mechanism='bone loss as
    stress',
          switch='link_stress'),)
    >>> tmp.cleanup()
    """

    target: str
    target_input: str
    source: str
    sign: str
    mechanism: str
    switch: str | None


@dataclass(frozen=True)
class PortFactor:
    """One pathway factor in a core port rule (``instance.factor^switch``).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "axis.ant"
    >>> _ = path.write_text(
    ...     "model axis()\\n  core.f_RANKL := HPG.F_RANKL^on_hpg * HPA.F_RANKL^on_hpa\\nend\\n")
    >>> parse_module(path, "axis").ports["f_RANKL"]
    (PortFactor(instance='HPG', factor='F_RANKL', switch='on_hpg'),
     PortFactor(instance='HPA', factor='F_RANKL', switch='on_hpa'))
    >>> tmp.cleanup()
    """

    instance: str
    factor: str
    switch: str


@dataclass(frozen=True)
class ModuleText:
    """Everything one model block of a module file declares (see the module docstring).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "axis.ant"
    >>> _ = path.write_text(
    ...     "model axis()\\n"
    ...     "  // @plot core_OCa\\n"
    ...     "  core: bone_remodeling()\\n"
    ...     "  HPA: hpa()\\n"
    ...     "  on_hpa = 1 dimensionless\\n"
    ...     "  core.f_OC_apop := HPA.F_OC_apop^on_hpa\\n"
    ...     "end\\n")
    >>> text = parse_module(path, "axis")
    >>> text.instances, text.switches, text.port_instance
    ({'core': 'bone_remodeling', 'HPA': 'hpa'}, {'on_hpa': 1.0}, 'core')
    >>> text.declarations
    {'plot': ('core_OCa',)}
    >>> tmp.cleanup()
    """

    name: str
    path: Path
    interface: tuple[str, ...]
    declarations: Mapping[str, tuple[str, ...]]
    parameters: Mapping[str, ParameterRecord]
    instances: Mapping[str, str]
    links: tuple[Link, ...]
    ports: Mapping[str, tuple[PortFactor, ...]]
    port_instance: str | None
    switches: Mapping[str, float]

    def declared(self, key: str) -> tuple[str, ...]:
        """The values of declaration ``key`` (empty if the module does not make it).

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "toy.ant"
        >>> _ = path.write_text(
        ...     "model toy()\\n  // @outputs F_OC_apop F_RANKL\\n  // @system immune\\nend\\n")
        >>> text = parse_module(path, "toy")
        >>> text.declared("outputs"), text.declared("system"), text.declared("plot")
        (('F_OC_apop', 'F_RANKL'), ('immune',), ())
        >>> tmp.cleanup()
        """
        return tuple(self.declarations.get(key, ()))


def _split_comment(line: str) -> tuple[str, str]:
    code, _, comment = line.partition("//")
    return code, comment.strip()


def _model_lines(path: Path, module: str) -> tuple[list[tuple[int, str]], tuple[str, ...]]:
    """The numbered lines inside ``model <module>`` and the names in its signature."""
    lines = path.read_text(encoding="utf-8").splitlines()
    inside, signature, body = False, "", []
    collecting = False
    for number, line in enumerate(lines, start=1):
        start = _MODEL_START.match(line)
        if start:
            inside = start.group(1) == module
            collecting = inside
            signature = line.partition("(")[2] if inside else signature
            if inside and ")" in signature:
                collecting = False
            continue
        if collecting:  # a signature continued over lines with "\"
            signature += " " + line
            collecting = ")" not in line
            continue
        if inside and _MODEL_END.match(line):
            inside = False
        elif inside:
            body.append((number, line))
    names = tuple(n for n in re.split(r"[\s,\\]+", signature.partition(")")[0]) if n)
    return body, names


def _parameter_record(
    code: str, comment: str, number: int, block_source: str
) -> tuple[str, ParameterRecord] | None:
    if ":=" in code or "'" in code:
        return None
    match = _ASSIGNMENT.match(code)
    if not match:
        return None
    inline = _INLINE_SOURCE.search(comment)
    description = comment[: inline.start()].rstrip(" .;") if inline else comment
    source = f"{inline.group(1).capitalize()}: {inline.group(2)}" if inline else block_source
    if inline and inline.group(1).lower() == "source":
        source = inline.group(2)
    return match.group(1), ParameterRecord(number, description, source)


def _declaration(line: str, where: str) -> tuple[str, tuple[str, ...]] | None:
    match = _DECLARATION.match(line)
    if match is None or match.group("key") == "source":
        return None
    key = match.group("key")
    if key not in DECLARATIONS:
        known = ", ".join(sorted(DECLARATIONS))
        raise ModelBuildError(f"{where}: unknown declaration '@{key}'; known: @source, {known}")
    return key, tuple(match.group("values").split())


def parse_module(path: Path, module: str) -> ModuleText:
    """Read model ``module`` of the file at ``path``.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "toy.ant"
    >>> _ = path.write_text(
    ...     "model toy(toy_rel, F_OC_apop)\\n"
    ...     "  // @main_signal toy_rel toy_dose 1\\n"
    ...     "  toy_dose = 0 dimensionless  // extra drive. Assumed: test intervention\\n"
    ...     "end\\n")
    >>> text = parse_module(path, "toy")
    >>> text.name, text.interface, text.declared("main_signal")
    ('toy', ('toy_rel', 'F_OC_apop'), ('toy_rel', 'toy_dose', '1'))
    >>> text.parameters["toy_dose"].source
    'Assumed: test intervention'
    >>> _ = path.write_text("model toy()\\n  // @output F_OC_apop\\nend\\n")
    >>> parse_module(path, "toy")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelBuildError: .../toy.ant:2: unknown declaration '@output'; known: @source, ...
    >>> tmp.cleanup()
    """
    body, interface = _model_lines(path, module)
    declarations: dict[str, tuple[str, ...]] = {}
    parameters: dict[str, ParameterRecord] = {}
    instances: dict[str, str] = {}
    links: list[Link] = []
    ports: dict[str, tuple[PortFactor, ...]] = {}
    port_instance: str | None = None
    switches: dict[str, float] = {}
    block_source = ""
    for number, line in body:
        block = _BLOCK_SOURCE.match(line)
        if block:
            block_source = block.group(1)
            continue
        declared = _declaration(line, f"{path}:{number}")
        if declared:
            key, values = declared
            declarations[key] = declarations.get(key, ()) + values
            continue
        code, comment = _split_comment(line)
        record = _parameter_record(code, comment, number, block_source)
        if record:
            parameters.setdefault(*record)
        if (instance := _INSTANCE.match(code)) is not None:
            instances[instance.group(1)] = instance.group(2)
        if (switch := _SWITCH_VALUE.match(code)) is not None:
            switches[switch.group(1)] = float(switch.group(2))
        if (link := _LINK.match(line)) is not None:
            target, target_input, source, _, sign, mechanism = link.groups()
            used = _LINK_SWITCH.search(code) or _SWITCH_USE.search(code)
            links.append(Link(target, target_input, source, sign, mechanism, used.group(1) if used else None))
        elif (port := _PORT.match(code)) is not None:
            port_instance = port.group(1)
            ports[port.group(2)] = tuple(PortFactor(*f) for f in _FACTOR.findall(port.group(3)))
    return ModuleText(
        module,
        path,
        interface,
        declarations,
        parameters,
        instances,
        tuple(links),
        ports,
        port_instance,
        switches,
    )


def read_module(name: str, directory: Path | None = None) -> ModuleText:
    """The declarations of module ``name`` (``models/<name>.ant``), cached until the file changes.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (Path(tmp.name) / "toy.ant").write_text("model toy()\\n  // @system neural\\nend\\n")
    >>> read_module("toy", Path(tmp.name)).declared("system")
    ('neural',)
    >>> read_module("toy", Path(tmp.name)) is read_module("toy", Path(tmp.name))  # read once
    True
    >>> tmp.cleanup()
    """
    path = model_path(name, directory)
    return _cached(path, name, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=128)
def _cached(path: Path, name: str, _mtime: int) -> ModuleText:
    return parse_module(path, name)


def module_description(path: Path) -> tuple[str, ...]:
    """The paragraphs of the comment block that opens a module file (its description), lines joined.

    A line holding only ``//`` separates paragraphs; the block ends at the first line that is not a comment.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "toy.ant"
    ...     _ = path.write_text("// A toy pathway:\\n// one signal.\\n//\\n// Units: days.\\nmodel toy()\\n")
    ...     print(module_description(path))
    ('A toy pathway: one signal.', 'Units: days.')
    """
    paragraphs: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("//"):
            break
        text = line[2:].strip()
        if text:
            paragraphs[-1].append(text)
        elif paragraphs[-1]:
            paragraphs.append([])
    return tuple(" ".join(lines) for lines in paragraphs if lines)


def flat_parameter_records(name: str, directory: Path | None = None) -> dict[str, ParameterRecord]:
    """Parameter records of ``name`` and, under their flattened ``<instance>_`` ids, of its submodels.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> _ = (folder / "cell.ant").write_text(
    ...     "model cell()\\n  k = 2 per_day  // turnover. Assumed: test\\nend\\n")
    >>> _ = (folder / "tissue.ant").write_text('import "cell.ant"\\nmodel tissue()\\n  A: cell()\\nend\\n')
    >>> flat_parameter_records("tissue", folder)
    {'A_k': ParameterRecord(line=2, description='turnover', source='Assumed: test')}
    >>> tmp.cleanup()
    """
    text = read_module(name, directory)
    records = dict(text.parameters)
    for instance, module in text.instances.items():
        sub = flat_parameter_records(module, text.path.parent)
        records.update({f"{instance}_{pid}": record for pid, record in sub.items()})
    return records


def declared_ids(name: str, key: str, directory: Path | None = None) -> tuple[str, ...]:
    """Flat ids of declaration ``key`` in ``name`` and in every submodel (prefixed by its instance).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> _ = (folder / "cell.ant").write_text("model cell()\\n  // @plot OCa OBa\\nend\\n")
    >>> _ = (folder / "tissue.ant").write_text(
    ...     'import "cell.ant"\\nmodel tissue()\\n  // @plot RANKL\\n  A: cell()\\n  B: cell()\\nend\\n')
    >>> declared_ids("tissue", "plot", folder)
    ('RANKL', 'A_OCa', 'A_OBa', 'B_OCa', 'B_OBa')
    >>> tmp.cleanup()
    """
    text = read_module(name, directory)
    found = list(text.declared(key))
    for instance, module in text.instances.items():
        found += [f"{instance}_{v}" for v in declared_ids(module, key, text.path.parent)]
    return tuple(found)


def instance_prefixes(name: str, module: str, directory: Path | None = None) -> tuple[str, ...]:
    """Prefixes under which the ids of ``module`` appear in the flat namespace of ``name``.

    ``""`` when ``name`` is ``module`` itself; ``"<instance>_"`` (nested: ``"A_B_"``) for every instance of
    it in the composition tree.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> _ = (folder / "cell.ant").write_text("model cell()\\n  k = 2 per_day  // turnover\\nend\\n")
    >>> tissue = 'import "cell.ant"\\nmodel tissue()\\n  A: cell()\\n  B: cell()\\nend\\n'
    >>> _ = (folder / "tissue.ant").write_text(tissue)
    >>> instance_prefixes("tissue", "cell", folder), instance_prefixes("cell", "cell", folder)
    (('A_', 'B_'), ('',))
    >>> tmp.cleanup()
    """
    text = read_module(name, directory)
    found = [""] if name == module else []
    for instance, sub in text.instances.items():
        found += [f"{instance}_{prefix}" for prefix in instance_prefixes(sub, module, text.path.parent)]
    return tuple(found)
