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

plus what SED-ML lacks: the ``organism`` preset and literature ``targets`` with source and tolerance.

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
    """An experiment spec that does not validate; the message names the file and the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UniformTimeCourse(_Frozen):
    """SED-ML ``uniformTimeCourse``: ``points`` outputs from ``start`` to ``end`` (days)."""

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
    """SED-ML ``steadyState``: every arm's steady state."""

    type: Literal["steady_state"] = "steady_state"


Simulation = Annotated[UniformTimeCourse | SteadyState, Field(discriminator="type")]


class PreEquilibration(_Frozen):
    """Start every arm from a steady state instead of the healthy reference (PEtab's pre-equilibration).

    The steady state is that of the model under the organism preset, the experiment's shared ``changes`` and
    these extra ``changes``; each arm then applies its own changes from the start time. Use it to begin in a
    prior condition (years after menopause, on long-term therapy) rather than in the healthy adult.
    """

    changes: dict[str, FiniteFloat] = Field(default_factory=dict)


class Solver(_Frozen):
    """Integrator settings for every time course of the experiment (SED-ML algorithm parameters).

    Defaults are the simulator's (``SolverOptions``); global analyses may loosen them for speed and check
    the error on a few samples.
    """

    relative_tolerance: Annotated[float, Field(gt=0, lt=1)] = SolverOptions.relative_tolerance
    absolute_tolerance: Annotated[float, Field(gt=0, lt=1)] = SolverOptions.absolute_tolerance
    maximum_num_steps: Annotated[int, Field(ge=1)] = SolverOptions.maximum_num_steps

    def options(self) -> SolverOptions:
        return SolverOptions(
            relative_tolerance=self.relative_tolerance,
            absolute_tolerance=self.absolute_tolerance,
            maximum_num_steps=self.maximum_num_steps,
        )


class Arm(_Frozen):
    """One SED-ML model-with-changes plus the task that simulates it."""

    id: Identifier
    name: str = ""
    changes: dict[str, FiniteFloat] = Field(default_factory=dict)


class Scan(_Frozen):
    """SED-ML ``repeatedTask``: run ``arm`` once per value of ``parameter`` (reset between runs)."""

    id: Identifier
    arm: Identifier
    parameter: str
    values: Annotated[list[FiniteFloat], Field(min_length=1)]


class DataGenerator(_Frozen):
    """SED-ML ``dataGenerator``: an expression over ``arm.variable`` references."""

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
    """SED-ML ``report``: a table of data generators."""

    type: Literal["report"] = "report"
    id: Identifier
    data_generators: Annotated[list[Identifier], Field(min_length=1)]


class Plot(_Frozen):
    """SED-ML ``plot2D``: curves of data generators against time (or another data generator)."""

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


class Experiment(_Frozen):
    """A complete in-silico experiment; see the module docstring for the SED-ML mapping."""

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
        """The arm called ``arm_id``."""
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        raise KeyError(arm_id)

    def to_yaml(self) -> str:
        """YAML text that :func:`load_experiment` reads back to an equal experiment."""
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
    """Validate already-parsed spec data; errors name ``origin`` and the field."""
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
    """Parse and validate spec YAML text (strictly: no aliases, no duplicate keys, bounded nesting)."""
    return experiment_from_data(parse_yaml(text, SpecError, origin), origin)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate a YAML spec; :class:`SpecError` names the file and the failing field."""
    return experiment_from_data(read_yaml(path, SpecError, "experiment spec"), str(path))


def experiment_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec format (published as ``experiments/experiment.schema.json``)."""
    schema = Experiment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pybrainbone experiment"
    return schema
