"""Property tests of the spec loader: whatever the text, a valid Experiment or a one-line SpecError.

Three generators, 1,000 examples each (derandomized, so every run sees the same cases; no simulations):
random YAML-ish documents, mutations of a valid spec (as data and as YAML text), and text-level damage
to a valid spec's YAML (inserted YAML punctuation, cut lines, duplicated lines).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pybrainbone.experiments.spec import Experiment, SpecError, experiment_from_data, experiment_from_yaml

PROPERTY = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALID: dict[str, Any] = {
    "id": "demo",
    "model": "bone_remodeling",
    "organism": "human",
    "changes": {"P_PTH_ext": 1.0},
    "simulation": {"type": "uniform_time_course", "start": 0, "end": 365, "points": 13},
    "solver": {"relative_tolerance": 1e-8},
    "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    "control": "control",
    "scans": [{"id": "dose", "arm": "treated", "parameter": "P_OPG_ext", "values": [1, 10]}],
    "data_generators": [
        {"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)", "unit": "%"},
        {"id": "dose_BMD", "expression": "dose.BMD"},
    ],
    "outputs": [
        {"type": "report", "id": "table", "data_generators": ["dBMD"]},
        {"type": "plot", "id": "fig", "y": ["dBMD"]},
    ],
    "targets": [
        {"id": "up", "data_generator": "dBMD", "direction": "up", "time": 300, "source": "test source"}
    ],
}

FIELDS = sorted(
    {
        "id", "name", "model", "organism", "changes", "pre_equilibration", "simulation", "solver", "arms",
        "control", "scans", "data_generators", "outputs", "targets", "type", "start", "end", "points",
        "expression", "unit", "arm", "parameter", "values", "data_generator", "direction", "range",
        "source", "status", "reason", "time", "relative_to", "y", "x", "title", "relative_tolerance",
        "maximum_num_steps", "uniform_time_course", "steady_state", "report", "plot", "up", "down",
    }
)  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(FIELDS),
    st.text(max_size=12),
    st.sampled_from(["a.BMD", "control.BMD / treated.BMD", "1/0", "log(a.x)", "a.", "((", "**", "9**9**9"]),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8), st.integers(-3, 3), st.booleans())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


def _check(text: str) -> None:
    """The loader's contract on ``text``; a valid spec also round-trips through its own YAML."""
    try:
        experiment = experiment_from_yaml(text, "prop.yaml")
    except SpecError as exc:
        message = str(exc)
        assert message.startswith("prop.yaml") and "\n" not in message and len(message) < 3000, message
        return
    assert isinstance(experiment, Experiment)
    assert experiment_from_yaml(experiment.to_yaml()) == experiment


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@PROPERTY
@given(st.dictionaries(keys, values, max_size=6) | values)
def test_random_documents_load_or_are_refused(document: Any) -> None:
    _check(_dump(document))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    spec: Any = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(spec)
        path = draw(st.sampled_from(paths))
        parent: Any = None
        node = spec
        for key in path:
            parent, node = node, node[key]
        action = draw(st.sampled_from(["replace", "delete", "add", "wrap"]))
        if not path:
            spec = draw(values) if action == "replace" else spec
            continue
        key = path[-1]
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete":
            del parent[key]
        elif action == "wrap":
            parent[key] = [node]
        elif isinstance(node, dict):
            node[draw(keys)] = draw(values)
        elif isinstance(node, list):
            node.append(draw(values))
    return spec


@PROPERTY
@given(mutated_specs())
def test_mutated_specs_load_or_are_refused(spec: Any) -> None:
    try:
        experiment = experiment_from_data(spec, "prop.yaml")
    except SpecError as exc:
        assert str(exc).startswith("prop.yaml") and "\n" not in str(exc)
    else:
        assert isinstance(experiment, Experiment)
        for value in experiment.changes.values():
            assert math.isfinite(value)
    _check(_dump(spec))


PUNCTUATION = [*":-[]{}&*!|>'\"#%@`,?\n\t \\", "&a ", "*a", "<<: ", "!!python/object ", "---\n", "\x00"]


@st.composite
def damaged_text(draw: st.DrawFn) -> str:
    lines = _dump(VALID).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["insert", "cut", "duplicate", "indent", "delete"]))
        line = lines[i]
        if action == "insert":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(st.sampled_from(PUNCTUATION)) + line[at:]
        elif action == "cut":
            lines[i] = line[: draw(st.integers(0, len(line)))] + "\n"
        elif action == "duplicate":
            lines.insert(i, line)
        elif action == "indent":
            lines[i] = draw(st.sampled_from([" ", "  ", "\t", "    "])) + line
        elif len(lines) > 1:
            del lines[i]
    return "".join(lines)


@PROPERTY
@given(damaged_text())
def test_damaged_yaml_loads_or_is_refused(text: str) -> None:
    _check(text)
