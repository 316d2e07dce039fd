"""The experiment spec: immutable, validated data named after SED-ML's terms, round-tripping to YAML.

SED-ML's vocabulary, and what each piece becomes on export:

* ``model`` + ``changes``: a SED-ML model (``changeAttribute`` per change), shared by every arm;
* ``arms``: one SED-ML model (the shared changes plus the arm's own) and one task each; ``control`` names
  the arm that treated arms are compared with;
* ``simulation``: a ``uniformTimeCourse`` or ``steadyState``;
* ``pre_equilibration``: arms start from a steady state under other conditions; exported as the
  initial values of every state in each arm's model;
* ``scans``: ``repeatedTask``s that set one parameter to each value in turn (dose-response);
* ``data_generators``: expressions over ``arm.variable`` (e.g. ``100*(treated.BMD/control.BMD - 1)``);
* ``outputs``: reports and plots;

plus what SED-ML lacks: the ``organism`` preset, literature ``targets`` with source and tolerance, and
``measurements`` (links from data generators to the curated dataset in ``data/``, for calibration).

>>> exp = Experiment.model_validate({
...     "id": "pth", "model": "bone_remodeling",
...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 13},
...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
...     "control": "control",
...     "data_generators": [{"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)", "unit": "%"}],
... })
>>> exp.arm("treated").changes
{'P_PTH_ext': 100.0}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pybrainbone.errors import SHORT, PyBrainBoneError, shorten
from pybrainbone.experiments.expressions import ExpressionError, parse_expression
from pybrainbone.options import SolverOptions
from pybrainbone.organisms import ORGANISMS
from pybrainbone.yaml_files import parse_yaml, read_yaml

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=_IDENTIFIER)]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # the same, for re.fullmatch (``$`` allows a final newline)
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class SpecError(PyBrainBoneError):
    """An experiment spec that does not validate; the message names the file and the field.

    Examples
    --------
    >>> experiment_from_yaml("id: pth\\nmodel: bone_remodeling\\n", "pth.yaml")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.spec.SpecError: pth.yaml: simulation: Field required; arms: Field required
    """


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UniformTimeCourse(_Frozen):
    """SED-ML ``uniformTimeCourse``: ``points`` outputs from ``start`` to ``end`` (days).

    Examples
    --------
    >>> UniformTimeCourse(end=365, points=13)
    UniformTimeCourse(type='uniform_time_course', start=0.0, end=365.0, points=13)
    >>> from pydantic import ValidationError
    >>> try:
    ...     UniformTimeCourse(start=10, end=5)
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, end (5.0) must be after start (10.0)
    """

    type: Literal["uniform_time_course"] = "uniform_time_course"
    start: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    end: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    points: Annotated[int, Field(ge=2, le=100_000)] = 101

    @model_validator(mode="after")
    def _end_after_start(self) -> UniformTimeCourse:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


class SteadyState(_Frozen):
    """SED-ML ``steadyState``: every arm's steady state.

    Examples
    --------
    >>> exp = Experiment.model_validate({
    ...     "id": "opg_ss", "model": "bone_remodeling", "simulation": {"type": "steady_state"},
    ...     "arms": [{"id": "treated", "changes": {"P_OPG_ext": 2e5}}]})
    >>> exp.simulation
    SteadyState(type='steady_state')
    """

    type: Literal["steady_state"] = "steady_state"


Simulation = Annotated[UniformTimeCourse | SteadyState, Field(discriminator="type")]


class PreEquilibration(_Frozen):
    """Start every arm from a steady state instead of the healthy reference (PEtab's pre-equilibration).

    The steady state is that of the model under the organism preset, the experiment's shared ``changes`` and
    these extra ``changes``; each arm then applies its own changes from the start time. Use it to begin in a
    prior condition (years after menopause, on long-term therapy) rather than in the healthy adult.

    Examples
    --------
    >>> exp = Experiment.model_validate({
    ...     "id": "after_pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365},
    ...     "pre_equilibration": {"changes": {"P_PTH_ext": 50}},
    ...     "arms": [{"id": "stopped", "changes": {"P_PTH_ext": 0}}]})
    >>> exp.pre_equilibration
    PreEquilibration(changes={'P_PTH_ext': 50.0})
    """

    changes: dict[str, FiniteFloat] = Field(default_factory=dict)


class Solver(_Frozen):
    """Integrator settings for every time course of the experiment (SED-ML algorithm parameters).

    Defaults are the simulator's (``SolverOptions``); global analyses may loosen them for speed and check
    the error on a few samples.

    Examples
    --------
    >>> Solver(relative_tolerance=1e-6)
    Solver(relative_tolerance=1e-06, absolute_tolerance=1e-15, maximum_num_steps=200000)
    """

    relative_tolerance: Annotated[float, Field(gt=0, lt=1)] = SolverOptions.relative_tolerance
    absolute_tolerance: Annotated[float, Field(gt=0, lt=1)] = SolverOptions.absolute_tolerance
    maximum_num_steps: Annotated[int, Field(ge=1)] = SolverOptions.maximum_num_steps

    def options(self) -> SolverOptions:
        """The same settings as the simulator's :class:`~pybrainbone.options.SolverOptions`.

        Examples
        --------
        >>> options = Solver(relative_tolerance=1e-6).options()
        >>> type(options).__name__, options.relative_tolerance, options.stiff
        ('SolverOptions', 1e-06, True)
        """
        return SolverOptions(
            relative_tolerance=self.relative_tolerance,
            absolute_tolerance=self.absolute_tolerance,
            maximum_num_steps=self.maximum_num_steps,
        )


class Arm(_Frozen):
    """One SED-ML model-with-changes plus the task that simulates it.

    Examples
    --------
    >>> Arm(id="treated", name="PTH infusion", changes={"P_PTH_ext": 100})
    Arm(id='treated', name='PTH infusion', changes={'P_PTH_ext': 100.0})
    >>> from pydantic import ValidationError
    >>> try:
    ...     Arm(id="2nd arm")
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'
    """

    id: Identifier
    name: str = ""
    changes: dict[str, FiniteFloat] = Field(default_factory=dict)


class Scan(_Frozen):
    """SED-ML ``repeatedTask``: run ``arm`` once per value of ``parameter`` (reset between runs).

    Examples
    --------
    >>> Scan(id="pth_doses", arm="treated", parameter="P_PTH_ext", values=[0, 50, 100])
    Scan(id='pth_doses', arm='treated', parameter='P_PTH_ext', values=[0.0, 50.0, 100.0])
    """

    id: Identifier
    arm: Identifier
    parameter: str
    values: Annotated[list[FiniteFloat], Field(min_length=1)]


class DataGenerator(_Frozen):
    """SED-ML ``dataGenerator``: an expression over ``arm.variable`` references.

    Examples
    --------
    >>> DataGenerator(id="dOCa", expression="treated.OCa / control.OCa", unit="1").expression
    'treated.OCa / control.OCa'
    >>> from pydantic import ValidationError
    >>> try:
    ...     DataGenerator(id="bad", expression="treated.OCa ^ 2")
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, BitXor is not allowed in 'treated.OCa ^ 2'; write powers as x ** y
    """

    id: Identifier
    expression: str
    name: str = ""
    unit: str = ""

    @field_validator("expression")
    @classmethod
    def _parses(cls, text: str) -> str:
        try:
            parse_expression(text)
        except ExpressionError as exc:
            raise ValueError(str(exc)) from None
        return text


class Report(_Frozen):
    """SED-ML ``report``: a table of data generators.

    Examples
    --------
    >>> Report(id="table", data_generators=["dOCa", "dCTX"])
    Report(type='report', id='table', data_generators=['dOCa', 'dCTX'])
    """

    type: Literal["report"] = "report"
    id: Identifier
    data_generators: Annotated[list[Identifier], Field(min_length=1)]


class Plot(_Frozen):
    """SED-ML ``plot2D``: curves of data generators against time (or another data generator).

    Examples
    --------
    >>> Plot(id="figure", title="Osteoclasts under PTH", y=["dOCa"])
    Plot(type='plot', id='figure', title='Osteoclasts under PTH', x='time', y=['dOCa'])
    """

    type: Literal["plot"] = "plot"
    id: Identifier
    title: str = ""
    x: str = "time"
    y: Annotated[list[Identifier], Field(min_length=1)]


Output = Annotated[Report | Plot, Field(discriminator="type")]


class Target(_Frozen):
    """A literature finding the experiment checks (what SED-ML lacks).

    ``direction`` is the sign of the data generator's value at ``time`` (days; the end when omitted);
    ``range`` the accepted interval where the literature gives a number. A target the model cannot meet
    yet is marked ``status: known_failure`` with the ``reason``, not hidden.

    Examples
    --------
    >>> target = Target(
    ...     id="ctx_up", data_generator="dCTX", direction="up", range=(5, 50), source="Lemaire 2004")
    >>> target.relative_to, target.status
    ('control', 'expected')
    >>> from pydantic import ValidationError
    >>> try:
    ...     Target(id="t", data_generator="dCTX", direction="down", source="Smith 2001",
    ...            status="known_failure")
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, a known_failure target must say why in 'reason'
    """

    id: str
    data_generator: Identifier
    time: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    direction: Literal["up", "down", "not_down", "not_up", "unchanged"]
    value: FiniteFloat | None = None
    range: tuple[FiniteFloat, FiniteFloat] | None = None
    unchanged_tolerance: Annotated[float, Field(gt=0)] = 1.0
    relative_to: Literal["control", "baseline"] = "control"
    source: Annotated[str, Field(min_length=3)]
    status: Literal["expected", "known_failure"] = "expected"
    reason: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} must be [low, high]")
        if self.status == "known_failure" and not self.reason.strip():
            raise ValueError("a known_failure target must say why in 'reason'")
        return self


class MeasurementLink(_Frozen):
    """Measurements of the curated dataset (``data/``) that a data generator is compared with.

    The rows of ``observable`` in ``condition`` of study ``dataset`` (and of ``unit``, when the study
    reports the observable in several) are matched to the data generator at ``time_offset`` + their time
    (days; the model time at which the study's clock starts). ``transform`` says what the model value is:
    the data generator itself (``identity``), its change since ``time_offset`` (``change``) or its percent
    change since then (``percent_change``: 100 (y(t)/y(t0) - 1)). The noise is the standard error derived
    from each row's spread, or ``sigma`` (model units) where given. ``held_back: true`` keeps the rows out
    of every fit: they are only predicted (validation; ``pybrainbone fit-report`` lists them apart).

    Examples
    --------
    >>> MeasurementLink(data_generator="hip", dataset="freedom_austin2012", observable="BMD_total_hip",
    ...                 condition="placebo", transform="percent_change", time_offset=3652.5).unit is None
    True
    """

    data_generator: Identifier
    dataset: Identifier
    observable: Identifier
    condition: Identifier
    unit: Identifier | None = None
    transform: Literal["identity", "change", "percent_change"] = "identity"
    time_offset: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    held_back: bool = False


class Experiment(_Frozen):
    """A complete in-silico experiment; see the module docstring for the SED-ML mapping.

    Examples
    --------
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 13},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "control": "control",
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"}]})
    >>> exp.simulation.end, [arm.id for arm in exp.arms], exp.organism
    (365.0, ['control', 'treated'], 'human')
    >>> from pydantic import ValidationError
    >>> try:
    ...     exp.model_validate({**exp.model_dump(), "control": "placebo"})
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, control 'placebo' is not one of the arms ['control', 'treated']
    """

    id: Identifier
    name: str = ""
    question: str = ""
    description: str = ""
    model: str
    organism: str = "human"
    changes: dict[str, FiniteFloat] = Field(default_factory=dict)
    pre_equilibration: PreEquilibration | None = None
    simulation: Simulation
    solver: Solver = Field(default_factory=Solver)
    arms: Annotated[list[Arm], Field(min_length=1)]
    control: Identifier | None = None
    scans: list[Scan] = Field(default_factory=list)
    data_generators: list[DataGenerator] = Field(default_factory=list)
    outputs: list[Output] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    measurements: list[MeasurementLink] = Field(default_factory=list)

    # ---- single-purpose checks -----------------------------------------------------------------
    @field_validator("organism")
    @classmethod
    def _known_organism(cls, name: str) -> str:
        if name not in ORGANISMS:
            raise ValueError(f"unknown organism {name!r}; known presets: {', '.join(ORGANISMS)}")
        return name

    @model_validator(mode="after")
    def _unique_ids(self) -> Experiment:
        ids = [a.id for a in self.arms] + [s.id for s in self.scans] + [d.id for d in self.data_generators]
        ids += [o.id for o in self.outputs]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(
                f"ids must be unique across arms, scans, data_generators and outputs: {duplicates}"
            )
        return self

    @model_validator(mode="after")
    def _control_is_an_arm(self) -> Experiment:
        if self.control is not None and self.control not in {a.id for a in self.arms}:
            raise ValueError(f"control {self.control!r} is not one of the arms {[a.id for a in self.arms]}")
        return self

    @model_validator(mode="after")
    def _relative_targets_have_a_control(self) -> Experiment:
        relative = [t.id for t in self.targets if t.relative_to == "control"]
        if relative and self.control is None:
            raise ValueError(
                f"targets {relative} compare with a control arm, but the experiment names no 'control'"
            )
        return self

    @model_validator(mode="after")
    def _expressions_reference_arms(self) -> Experiment:
        tasks = {a.id for a in self.arms} | {s.id for s in self.scans}
        for dg in self.data_generators:
            for arm, _ in parse_expression(dg.expression).references:
                if arm not in tasks:
                    raise ValueError(
                        f"data_generator {dg.id!r} refers to {arm!r}, which is not an arm or scan"
                    )
        return self

    @model_validator(mode="after")
    def _scans_reference_arms(self) -> Experiment:
        arms = {a.id for a in self.arms}
        for scan in self.scans:
            if scan.arm not in arms:
                raise ValueError(f"scan {scan.id!r} runs arm {scan.arm!r}, which is not an arm")
        return self

    @model_validator(mode="after")
    def _outputs_and_targets_reference_generators(self) -> Experiment:
        generators = {d.id for d in self.data_generators}
        for output in self.outputs:
            names = output.data_generators if isinstance(output, Report) else output.y
            unknown = [n for n in names if n not in generators]
            if unknown:
                raise ValueError(f"output {output.id!r} uses unknown data_generators {unknown}")
        for target in self.targets:
            if target.data_generator not in generators:
                raise ValueError(
                    f"target {target.id!r} uses unknown data_generator {target.data_generator!r}"
                )
        return self

    @model_validator(mode="after")
    def _dimensionless_targets_have_a_range(self) -> Experiment:
        # A direction compares the value with 0 (and 'unchanged' with a tolerance meant for a % change),
        # so on a ratio, which is always positive, a direction alone checks nothing.
        units = {d.id: d.unit for d in self.data_generators}
        for target in self.targets:
            if units.get(target.data_generator) == "1" and target.range is None:
                raise ValueError(
                    f"target {target.id!r}: data_generator {target.data_generator!r} has unit '1', and a "
                    f"direction alone compares its value with 0, which a ratio always exceeds; write it as a "
                    f"% change (100 * (a / b - 1), unit '%') or give the target a range"
                )
        return self

    @model_validator(mode="after")
    def _measurements_reference_generators(self) -> Experiment:
        generators = {d.id for d in self.data_generators}
        for link in self.measurements:
            if link.data_generator not in generators:
                raise ValueError(f"measurements: unknown data_generator {link.data_generator!r}")
        return self

    @model_validator(mode="after")
    def _target_times_inside_the_simulation(self) -> Experiment:
        if isinstance(self.simulation, UniformTimeCourse):
            for target in self.targets:
                if (
                    target.time is not None
                    and not self.simulation.start <= target.time <= self.simulation.end
                ):
                    raise ValueError(f"target {target.id!r} time {target.time} is outside the simulation")
        return self

    # ---- access --------------------------------------------------------------------------------
    def arm(self, arm_id: str) -> Arm:
        """The arm called ``arm_id``.

        Examples
        --------
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 13},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "control": "control",
        ...     "data_generators": [
        ...         {"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"}]})
        >>> exp.arm("treated").changes
        {'P_PTH_ext': 100.0}
        >>> exp.arm("placebo")
        Traceback (most recent call last):
        ...
        KeyError: 'placebo'
        """
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise KeyError(arm_id)

    def to_yaml(self) -> str:
        """YAML text that :func:`load_experiment` reads back to an equal experiment.

        Examples
        --------
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 13},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "control": "control",
        ...     "data_generators": [
        ...         {"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"}]})
        >>> print(exp.to_yaml())
        id: pth
        model: bone_remodeling
        simulation:
          type: uniform_time_course
          start: 0.0
          end: 365.0
          points: 13
        arms:
        - id: control
        - id: treated
          changes:
            P_PTH_ext: 100.0
        control: control
        data_generators:
        - id: dCTX
          expression: 100*(treated.CTX_rel/control.CTX_rel - 1)
        <BLANKLINE>
        >>> experiment_from_yaml(exp.to_yaml()) == exp
        True
        """
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["simulation"] = self.simulation.model_dump(mode="json")
        for output, dumped in zip(self.outputs, data.get("outputs", []), strict=True):
            dumped["type"] = output.type
        return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _location(loc: tuple[Any, ...], data: Any) -> str:
    """Human path of a pydantic error location, naming list items by their id where they have one.

    Never renders a user's value beyond a short identifier: a hostile id (a huge string or a nested list)
    is shown by its index instead.
    """
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            label = item.get("id", key) if isinstance(item, dict) else key
            if not (isinstance(label, str) and len(label) <= SHORT and _NAME.fullmatch(label)):
                label = key
            parts.append(f"[{label}]")
            node = item
        elif isinstance(key, str) and isinstance(node, dict):
            plain = len(key) <= SHORT and _NAME.fullmatch(key) is not None
            shown = (f".{key}" if parts else key) if plain else f"[{shorten(key)}]"
            if key in node:
                parts.append(shown)
                node = node[key]
            elif not plain or key in {
                "uniform_time_course",
                "steady_state",
                "report",
                "plot",
            }:
                continue  # pydantic's union-member tags
            else:
                parts.append(shown)
                node = None
    return "".join(parts) or "(top level)"


#: Validation problems listed in one error message (the rest are counted).
_SHOWN_ERRORS = 3


def experiment_from_data(data: Any, origin: str) -> Experiment:
    """Validate already-parsed spec data; errors name ``origin`` and the field.

    Examples
    --------
    >>> data = {"id": "pth", "model": "bone_remodeling", "simulation": {"type": "steady_state"},
    ...         "arms": [{"id": "treated", "changes": {"P_PTH_ext": "a lot"}}]}
    >>> experiment_from_data(data, "pth.yaml")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.spec.SpecError: pth.yaml: arms[treated].changes.P_PTH_ext: Input should be a valid
    number, ...
    >>> data["arms"][0]["changes"]["P_PTH_ext"] = 100
    >>> experiment_from_data(data, "pth.yaml").arms[0].changes
    {'P_PTH_ext': 100.0}
    """
    if data is None:
        raise SpecError(f"{origin}: the spec is empty; it needs at least id, model, simulation and arms")
    if not isinstance(data, dict):
        raise SpecError(
            f"{origin}: an experiment spec must be a mapping of fields, got {type(data).__name__}"
        )
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        messages = []
        for error in errors[:_SHOWN_ERRORS]:
            where = _location(tuple(error["loc"]), data)
            message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
            messages.append(f"{where}: {message if len(message) <= 300 else message[:297] + '...'}")
        if len(errors) > _SHOWN_ERRORS:
            messages.append(f"and {len(errors) - _SHOWN_ERRORS} more problem(s)")
        raise SpecError(f"{origin}: " + "; ".join(messages)) from None
    except RecursionError:
        raise SpecError(f"{origin}: the spec is nested too deeply to validate") from None


def experiment_from_yaml(text: str, origin: str = "<spec text>") -> Experiment:
    """Parse and validate spec YAML text (strictly: no aliases, no duplicate keys, bounded nesting).

    Examples
    --------
    >>> exp = experiment_from_yaml(
    ...     "id: opg\\nmodel: bone_remodeling\\nsimulation: {type: steady_state}\\n"
    ...     "arms: [{id: treated, changes: {P_OPG_ext: 2.0e+5}}]\\n")
    >>> exp.id, exp.arm("treated").changes
    ('opg', {'P_OPG_ext': 200000.0})
    """
    return experiment_from_data(parse_yaml(text, SpecError, origin), origin)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate a YAML spec; :class:`SpecError` names the file and the failing field.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "opg.yaml"
    ...     _ = path.write_text("id: opg\\nmodel: bone_remodeling\\nsimulation: {type: steady_state}\\n"
    ...                         "arms: [{id: treated, changes: {P_OPG_ext: 2.0e+5}}]\\n")
    ...     print(load_experiment(path).id)
    opg
    >>> load_experiment("no/such/spec.yaml")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.spec.SpecError: no experiment spec at no/such/spec.yaml
    """
    return experiment_from_data(read_yaml(path, SpecError, "experiment spec"), str(path))


#: Where a class docstring's examples begin: the schema's descriptions stop there.
_EXAMPLES_HEADING = "\n\nExamples\n--------"


def _without_examples(node: Any) -> Any:
    """``node`` with every ``description`` text cut before its docstring's ``Examples`` section."""
    if isinstance(node, dict):
        return {
            key: value.split(_EXAMPLES_HEADING)[0]
            if key == "description" and isinstance(value, str)
            else _without_examples(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_without_examples(value) for value in node]
    return node


def experiment_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format (published as ``experiments/experiment.schema.json``).

    Each object's description is its class docstring without the examples.

    Examples
    --------
    >>> schema = experiment_json_schema()
    >>> schema["title"], sorted(schema["required"])
    ('pybrainbone experiment', ['arms', 'id', 'model', 'simulation'])
    >>> "Examples" in schema["$defs"]["Arm"]["description"]
    False
    """
    schema: dict[str, Any] = _without_examples(Experiment.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pybrainbone experiment"
    return schema
