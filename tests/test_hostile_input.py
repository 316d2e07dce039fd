"""Hostile and careless input: refused with exit status 2 and one line on stderr, writing nothing.

Every case runs ``pybrainbone.cli.main([...])`` (or the Python API) under a ``signal.alarm`` bound, then
checks: status 2, exactly one stderr line, no traceback, and no new file or directory anywhere in the
case's workspace (so no output, and no temporary file left behind). The classes: bad paths, special files
(FIFOs, devices, symlinks), read-only directories, text that is not UTF-8, YAML bombs, duplicate keys and
deep nesting, unknown names, bad numbers, bad figure names, empty directories, duplicate spec ids and
multi-spec runs that fail part-way. Then the exits that are not errors: a closed output pipe, Ctrl-C,
SIGTERM, a bug (traceback saved to a file), and an ensemble stopped by a signal that resumes.
"""

from __future__ import annotations

import errno
import math
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from pybrainbone.cli import main
from pybrainbone.errors import PyBrainBoneError

#: Seconds any single case may take before it counts as a hang.
CASE_SECONDS = 60

TOY = """model hostile_toy()
  unit time_unit = 86400 second
  unit per_day = 1 / 86400 second
  x = 10 dimensionless
  x has dimensionless
  ks = 1 per_day      // Assumed: test
  k1 = 0.5 per_day    // Assumed: test
  x' = ks - k1 * x
  p1 = 1 dimensionless
  p4 = 1 dimensionless
  c1 = 4 dimensionless
  Y := c1 * p1 + x
  Y has dimensionless
  Yf := sqrt(p4)
  Yf has dimensionless
end
"""

GOOD: dict[str, Any] = {
    "id": "good",
    "model": "bone_remodeling",
    "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    "control": "control",
    "data_generators": [{"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)"}],
}
TOY_SPEC: dict[str, Any] = {
    "id": "toy",
    "model": "hostile_toy",
    "simulation": {"type": "uniform_time_course", "end": 4, "points": 5},
    "arms": [{"id": "a"}],
    "data_generators": [{"id": "Y", "expression": "a.Y"}, {"id": "Yf", "expression": "a.Yf"}],
}
BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
)


class CaseTimeout(BaseException):
    """A case ran past its bound (BaseException: the CLI's boundary must not swallow it)."""


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"case took more than {CASE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(CASE_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Workspace:
    """A case's directory, with helpers that write the inputs it needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.out = root / "out"

    def __truediv__(self, name: str) -> Path:
        return self.root / name

    def spec(self, name: str = "spec.yaml", base: dict[str, Any] | None = None, **changes: Any) -> str:
        return self.text(name, yaml.safe_dump({**(base or GOOD), **changes}, sort_keys=False))

    def text(self, name: str, content: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return str(path)

    def raw(self, name: str, content: bytes) -> str:
        path = self.root / name
        path.write_bytes(content)
        return str(path)

    def fifo(self, name: str) -> str:
        os.mkfifo(self.root / name)
        return str(self.root / name)

    def directory(self, name: str) -> str:
        (self.root / name).mkdir(parents=True, exist_ok=True)
        return str(self.root / name)

    def link(self, name: str, target: str) -> str:
        (self.root / name).symlink_to(target)
        return str(self.root / name)

    def readonly(self) -> str:
        """A directory this process cannot write into (root ignores permission bits: /sys then)."""
        if os.geteuid() == 0:
            return "/sys"
        path = self.root / "readonly"
        path.mkdir()
        path.chmod(stat.S_IRUSR | stat.S_IXUSR)
        return str(path)

    def toy(self) -> tuple[str, str]:
        """The toy model's spec and a problem file of p1 (the model directory is set by the case)."""
        return self.spec("toy.yaml", TOY_SPEC), self.text("problem.yaml", "parameters: [p1]\n")

    def snapshot(self) -> set[Path]:
        return set(self.root.rglob("*"))


@dataclass(frozen=True)
class Case:
    id: str
    argv: Callable[[Workspace], list[str]]
    message: str  # a regular expression the error line must match
    toy: bool = False  # runs on the toy model (PYBRAINBONE_MODELS set to it)


Argv = Callable[[Workspace], list[str]]


def _sim(*extra: str) -> Argv:
    """``simulate`` of the bone core with ``extra`` arguments (``{out}``: the case's output directory)."""
    return lambda w: ["simulate", "bone_remodeling", "--end", "10", "--points", "3", *extra]


def _sim_to(output: Callable[[Workspace], str], *extra: str) -> Argv:
    """``simulate`` writing to the path ``output`` makes in the workspace."""
    return lambda w: ["simulate", "bone_remodeling", "--end", "10", "--points", "3", "-o", output(w), *extra]


def _plot_to(plot: Callable[[Workspace], str]) -> Argv:
    """``simulate`` writing its CSV into ``out/`` and its figure to the path ``plot`` makes."""
    return lambda w: [*_sim("-o", str(w.out / "x.csv"))(w), "--plot", plot(w)]


def _run(*specs: Callable[[Workspace], str], out: bool = True) -> Argv:
    """``run`` of the spec files the ``specs`` write (into ``out/``)."""
    return lambda w: ["run", *(make(w) for make in specs), *(["-o", str(w.out), "-q"] if out else [])]


def _run_text(text: str) -> Argv:
    return _run(lambda w: w.text("s.yaml", text))


def _sens(*extra: str, method: str = "morris", output: str = "Y") -> Argv:
    """A sensitivity analysis of the toy model (serial; ``{out}`` and ``{spec}`` are substituted)."""

    def argv(w: Workspace) -> list[str]:
        spec, problem = w.toy()
        head = ["sensitivity", method, spec, "--params", problem, "--output", output, "-q", "--workers", "1"]
        return [*head, *(a.replace("{out}", str(w.out)).replace("{spec}", spec) for a in extra)]

    return argv


def _sens_problem(problem: Callable[[Workspace], str], *extra: str) -> Argv:
    """A Morris analysis of the toy model with the problem file ``problem`` writes."""

    def argv(w: Workspace) -> list[str]:
        spec, _ = w.toy()
        return ["sensitivity", "morris", spec, "--params", problem(w), "--output", "Y", "-q", *extra]

    return argv


def _problem(text: str, *extra: str) -> Argv:
    return _sens_problem(lambda w: w.text("p.yaml", text), "-o", "{out}", *extra)


def _deep_flow(depth: int) -> str:
    return "id: x\nmodel: " + "[" * depth + "]" * depth + "\n"


def _deep_block(depth: int) -> str:
    return "id: x\nchanges:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "\n"


def _good(w: Workspace) -> str:
    return w.spec("a.yaml")


def _with_arm_change(name: str, **fields: Any) -> Callable[[Workspace], str]:
    arms = [{"id": "control"}, {"id": "treated", "changes": {name: 1}}]
    return lambda w: w.spec("b.yaml", arms=arms, **fields)


def _flow(depth: int) -> str:
    return "parameters: " + "[" * depth + "]" * depth


LATE_FAILURE = [{"id": "d", "expression": "log(control.BMD - 1000)"}]
TIME_COURSE = {"type": "uniform_time_course", "end": 1}

CASES = [
    # ---- bad paths ----------------------------------------------------------------------------------
    Case("run-missing-spec", _run(lambda w: str(w / "missing.yaml")), r"no experiment spec at"),
    Case("run-spec-in-missing-dir", _run(lambda w: str(w / "no/such/dir.yaml")), r"no experiment spec at"),
    Case("simulate-output-is-directory", _sim_to(lambda w: w.directory("out")), r"is a directory"),
    Case(
        "simulate-output-under-a-file", _sim_to(lambda w: w.text("f.txt", "x") + "/x.csv"), r"not a directory"
    ),
    Case("simulate-output-empty-name", _sim("-o", ""), r"cannot write \.: it is a directory"),
    Case("simulate-output-name-too-long", _sim_to(lambda w: str(w / ("n" * 300 + ".csv"))), r"too long"),
    Case("simulate-output-read-only-dir", _sim_to(lambda w: w.readonly() + "/x.csv"), r"permission denied"),
    Case("simulate-output-new-dir-in-read-only", _sim_to(lambda w: w.readonly() + "/new/x.csv"), r"cannot"),
    Case("run-out-is-a-file", lambda w: ["run", w.spec(), "-o", w.text("out", "x")], r"is a file, not a dir"),
    Case("run-out-read-only", lambda w: ["run", w.spec(), "-o", w.readonly() + "/out"], r"permission denied"),
    Case("build-out-is-a-file", lambda w: ["build", "hpa", "--out", w.text("o", "x")], r"not a directory"),
    Case(
        "export-output-is-dir", lambda w: ["export", "sedml", w.spec(), "-o", w.directory("o")], r"directory"
    ),
    Case("import-sedml-missing", lambda w: ["import-sedml", str(w / "none.sedml")], r"no SED-ML file"),
    Case("import-sedml-not-xml", lambda w: ["import-sedml", w.text("x.sedml", "<sedML><open>")], r"x\.sedml"),
    Case("sensitivity-out-is-a-file", _sens("-o", "{spec}"), r"is a file, not a directory", toy=True),
    Case(
        "sensitivity-params-missing",
        _sens_problem(lambda w: str(w / "no.yaml")),
        r"no problem file",
        toy=True,
    ),
    # ---- special files ------------------------------------------------------------------------------
    Case("simulate-output-is-fifo", _sim_to(lambda w: w.fifo("pipe.csv")), r"pipe, socket or device"),
    Case("simulate-output-is-device", _sim("-o", "/dev/null"), r"pipe, socket or device"),
    Case(
        "simulate-output-is-symlink",
        _sim_to(lambda w: w.link("l.csv", w.text("target.txt", "keep"))),
        r"link",
    ),
    Case("simulate-plot-is-symlink", _plot_to(lambda w: w.link("p.png", w.text("t.png", "keep"))), r"link"),
    Case("run-spec-is-fifo", _run(lambda w: w.fifo("spec.yaml")), r"not a regular file"),
    Case("run-spec-is-device", _run(lambda w: "/dev/zero"), r"not a regular file"),
    Case("sensitivity-params-is-fifo", _sens_problem(lambda w: w.fifo("p.yaml")), r"not a regular", toy=True),
    # ---- not UTF-8 ----------------------------------------------------------------------------------
    Case("run-latin1-spec", _run(lambda w: w.raw("l.yaml", b"id: caf\xe9\n")), r"l\.yaml:1: not UTF-8"),
    Case(
        "run-utf16-spec", _run(lambda w: w.raw("u.yaml", "id: x\n".encode("utf-16"))), r"u\.yaml:1: not UTF-8"
    ),
    Case(
        "export-latin1-spec",
        lambda w: ["export", "sedml", w.raw("l.yaml", b"a: 1\n# \xff\n"), "-o", str(w.out)],
        r"l\.yaml:2: not UTF-8",
    ),
    Case(
        "sensitivity-latin1-problem",
        _sens_problem(lambda w: w.raw("p.yaml", b"parameters: [p\xe91]\n")),
        r"p\.yaml:1: not UTF-8",
        toy=True,
    ),
    Case(
        "simulate-latin1-model",
        lambda w: ["simulate", "latin", "--end", "1", "-o", str(w.out / "x.csv")],
        r"latin\.ant:2: not UTF-8",
        toy=True,
    ),
    Case(
        "run-spec-with-nul-byte", _run(lambda w: w.raw("n.yaml", b"id: a\x00b\n")), r"n\.yaml: not valid YAML"
    ),
    # ---- YAML bombs, duplicates, depth -----------------------------------------------------------------
    Case(
        "run-alias-bomb-arm-id",
        _run_text(BOMB + "arms: [{id: *e}]\n"),
        r"s\.yaml:2: .*aliases are not allowed",
    ),
    Case(
        "sensitivity-alias-bomb-list", _problem(BOMB + "parameters: *e\n"), r"p\.yaml:2: .*aliases", toy=True
    ),
    Case("run-merge-key-alias", _run_text("base: &b {end: 1}\nsimulation: {<<: *b}\n"), r"aliases are not"),
    Case(
        "run-duplicate-key", _run_text("id: a\nmodel: m\nid: b\n"), r"s\.yaml:3: .*duplicate key 'id' \(first"
    ),
    Case(
        "run-duplicate-nested-key", _run_text("arms:\n  - changes: {k: 1, k: 2}\n"), r"s\.yaml:2: .*key 'k'"
    ),
    Case(
        "sensitivity-duplicate-name",
        _problem("parameters:\n  p1: {}\n  p1: {}\n"),
        r"p\.yaml:3: .*",
        toy=True,
    ),
    Case("run-nested-5000-flow", _run_text(_deep_flow(5000)), r"s\.yaml:2: not valid YAML"),
    Case("run-nested-60-flow", _run_text(_deep_flow(60)), r"s\.yaml:2: .*nested more than 50 levels"),
    Case("run-nested-600-block", _run_text(_deep_block(600)), r"s\.yaml:\d+: .*nested more than 50"),
    Case("sensitivity-nested-problem", _problem(_flow(80)), r"p\.yaml:1: not valid YAML: nested", toy=True),
    Case("run-unclosed-flow", _run_text("id: [unclosed\n"), r"s\.yaml:2: not valid YAML"),
    Case("run-tab-indent", _run_text("id: a\n\tmodel: m\n"), r"s\.yaml:2: not valid YAML"),
    Case("run-two-documents", _run_text("id: a\n---\nid: b\n"), r"single document"),
    Case("run-python-tag", _run_text("id: !!python/object/apply:os.system [ls]\n"), r"could not determine"),
    Case("run-unhashable-key", _run_text("? [a, b]\n: c\n"), r"unhashable key"),
    Case("run-empty-spec", _run_text(""), r"s\.yaml: the spec is empty"),
    Case("run-spec-is-a-list", _run_text("- id: a\n"), r"must be a mapping.*got list"),
    Case("run-spec-is-a-number", _run_text("42\n"), r"must be a mapping.*got int"),
    Case("run-spec-too-large", _run_text("# " + "x" * 2**20 + "\n"), r"too large"),
    Case(
        "run-newline-in-key",
        _run(lambda w: w.spec(changes={"P\nX": 1})),
        r"spec\.yaml: changes: unknown parameter 'P\\nX'",
    ),
    # ---- unknown names ------------------------------------------------------------------------------
    Case(
        "simulate-unknown-model",
        lambda w: ["simulate", "bone_remodelling", "--end", "1", "-o", str(w.out / "x.csv")],
        r"no model named 'bone_remodelling'.*did you mean bone_remodeling",
    ),
    Case(
        "simulate-model-path-traversal",
        lambda w: ["simulate", "../../etc/passwd", "--end", "1", "-o", str(w.out)],
        r"a model name is an identifier",
    ),
    Case("simulate-unknown-parameter", _sim("--set", "P_PTH=1", "-o", "{out}"), r"unknown parameter 'P_PTH'"),
    Case(
        "simulate-huge-unknown-name", _sim("--set", "P" * 100_000 + "=1", "-o", "x.csv"), r"100000 characters"
    ),
    Case("simulate-unknown-selection", _sim("--select", "OCA", "-o", "x.csv"), r"unknown variable 'OCA'"),
    Case(
        "run-unknown-parameter-in-arm",
        _run(_with_arm_change("nope")),
        r"b\.yaml: arms\[treated\]\.changes: unknown parameter 'nope'",
    ),
    Case("run-unknown-model", _run(lambda w: w.spec(model="no_such_model")), r"no model named"),
    Case("run-unknown-field", _run(lambda w: w.spec(colour="red")), r"colour: Extra inputs"),
    Case("run-unknown-organism", _run(lambda w: w.spec(organism="martian")), r"unknown organism"),
    Case("sensitivity-unknown-output", _sens("-o", "{out}", output="nope"), r"nope", toy=True),
    Case(
        "sensitivity-unknown-parameter", _problem("parameters: [kz]\n"), r"unknown parameter 'kz'", toy=True
    ),
    Case(
        "sensitivity-name-not-a-string", _problem("parameters: [[p1]]\n"), r"parameters\[0\] must", toy=True
    ),
    # ---- bad numbers --------------------------------------------------------------------------------
    Case("simulate-end-nan", lambda w: ["simulate", "hpa", "--end", "nan", "-o", "x.csv"], r"--end must"),
    Case("simulate-end-inf", lambda w: ["simulate", "hpa", "--end", "inf", "-o", "x.csv"], r"--end must"),
    Case("simulate-end-negative", lambda w: ["simulate", "hpa", "--end", "-5", "-o", "x.csv"], r"--end must"),
    Case("simulate-end-text", lambda w: ["simulate", "hpa", "--end", "ten", "-o", "x.csv"], r"invalid float"),
    Case("simulate-points-zero", _sim("--points", "0", "-o", "x.csv"), r"--points must be between 2"),
    Case("simulate-points-huge", _sim("--points", "1000000000", "-o", "x.csv"), r"--points must be between"),
    Case("simulate-set-nan", _sim("--set", "P_PTH_ext=nan", "-o", "x.csv"), r"must be finite"),
    Case("simulate-set-overflow", _sim("--set", "P_PTH_ext=1e999", "-o", "x.csv"), r"must be finite"),
    Case("simulate-set-no-value", _sim("--set", "P_PTH_ext", "-o", "x.csv"), r"expects NAME=VALUE"),
    Case("simulate-rtol-too-big", _sim("--rtol", "2", "-o", "x.csv"), r"tolerance"),
    Case("simulate-rtol-nan", _sim("--rtol", "nan", "-o", "x.csv"), r"finite"),
    Case("sensitivity-n-zero", _sens("-n", "0", "-o", "{out}"), r"n \(trajectories\) must be", toy=True),
    Case("sensitivity-workers-zero", _sens("--workers", "0", "-o", "{out}"), r"--workers must be", toy=True),
    Case("sensitivity-chunk-size-zero", _sens("--chunk-size", "0", "-o", "{out}"), r"chunk size", toy=True),
    Case("sensitivity-seed-negative", _sens("--seed", "-1", "-o", "{out}"), r"seed must be", toy=True),
    Case("sensitivity-sobol-n", _sens("-n", "100", "-o", "{out}", method="sobol"), r"power of 2", toy=True),
    Case(
        "sensitivity-low-inf",
        _problem("parameters: {p1: {low: .inf, high: 1}}\n"),
        r"must be finite",
        toy=True,
    ),
    Case("sensitivity-low-text", _problem("parameters: {p1: {low: abc, high: 1}}\n"), r"got 'abc'", toy=True),
    Case("sensitivity-output-time-text", _sens("-o", "{out}", output="Y@soon"), r"Y@soon", toy=True),
    Case("sensitivity-output-time-outside", _sens("-o", "{out}", output="Y@1e9"), r"outside", toy=True),
    Case("run-spec-end-nan", _run(lambda w: w.spec(simulation={**TIME_COURSE, "end": math.nan})), r"\.end"),
    Case(
        "run-spec-points-huge", _run(lambda w: w.spec(simulation={**TIME_COURSE, "points": 10**9})), r"points"
    ),
    Case(
        "run-spec-change-text", _run(lambda w: w.spec(changes={"P_PTH_ext": "lots"})), r"changes\.P_PTH_ext"
    ),
    # ---- bad figure names ---------------------------------------------------------------------------
    Case(
        "simulate-plot-bad-suffix",
        _sim("-o", "{out}/x.csv", "--plot", "{out}/p.xyz"),
        r"\.png, \.svg or \.pdf",
    ),
    Case(
        "simulate-plot-no-suffix", _sim("-o", "{out}/x.csv", "--plot", "{out}/plot"), r"\.png, \.svg or \.pdf"
    ),
    Case(
        "simulate-plot-is-directory", _plot_to(lambda w: w.directory("p.png")), r"p\.png: it is a directory"
    ),
    Case("simulate-plot-read-only", _plot_to(lambda w: w.readonly() + "/p.png"), r"permission denied"),
    Case(
        "network-plot-bad-suffix", lambda w: ["network", "--plot", str(w / "n.gif")], r"\.png, \.svg or \.pdf"
    ),
    # ---- empty directories, duplicate ids, partial multi-spec runs ---------------------------------------
    Case("run-empty-directory", _run(lambda w: w.directory("specs")), r"holds no experiment specs"),
    Case("scorecard-empty-directory", lambda w: ["scorecard", w.directory("specs")], r"holds no experiment"),
    Case(
        "run-directory-without-specs", _run(lambda w: str(Path(w.text("d/a.txt", "x")).parent)), r"holds no"
    ),
    Case(
        "run-duplicate-spec-ids",
        _run(_good, lambda w: w.spec("b.yaml")),
        r"b\.yaml: experiment id 'good' is also the id of .*a\.yaml",
    ),
    Case(
        "run-good-then-unknown-name",
        _run(_good, _with_arm_change("P_PTHX", id="bad")),
        r"b\.yaml: .*'P_PTHX'",
    ),
    Case(
        "run-good-then-fails-while-running",
        _run(_good, lambda w: w.spec("b.yaml", id="late", data_generators=LATE_FAILURE)),
        r"b\.yaml: .*log of a negative number",
    ),
    Case(
        "run-good-then-invalid-spec",
        _run(_good, lambda w: w.text("b.yaml", "id: [\n")),
        r"b\.yaml:2: not valid",
    ),
    # ---- usage --------------------------------------------------------------------------------------
    Case("unknown-command", lambda w: ["frobnicate"], r"invalid choice: 'frobnicate'"),
    Case("unknown-option", lambda w: ["list", "--bogus"], r"unrecognized arguments: --bogus"),
    Case("missing-required-option", lambda w: ["simulate", "bone_remodeling"], r"required"),
    Case("sensitivity-resume-local", _sens("--resume", "-o", "{out}", method="local"), r"--resume", toy=True),
]


@pytest.fixture(scope="module")
def toy_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile_models")
    (directory / "hostile_toy.ant").write_text(TOY, encoding="utf-8")
    (directory / "latin.ant").write_bytes(b"model latin()\n  // caf\xe9\n  x = 1 dimensionless\nend\n")
    (directory / "blowup.ant").write_text(BLOWUP, encoding="utf-8")
    return directory


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {err[:2000]!r}"
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_with_one_line_and_no_output(
    case: Case,
    tmp_path: Path,
    toy_models: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if case.toy:
        monkeypatch.setenv("PYBRAINBONE_MODELS", str(toy_models))
    monkeypatch.chdir(tmp_path)
    w = Workspace(tmp_path)
    argv = [a.replace("{out}", str(w.out)) for a in case.argv(w)]
    before = w.snapshot()
    started = time.monotonic()
    code = main(argv)
    line = _one_line(capsys.readouterr().err)
    assert code == 2, line
    assert line.startswith("pybrainbone"), line
    assert re.search(case.message, line), f"{case.message!r} not in {line!r}"
    assert len(line) < 1100
    assert w.snapshot() == before, f"new paths: {sorted(map(str, w.snapshot() - before))}"
    assert time.monotonic() - started < CASE_SECONDS
    if "symlink" in case.id:
        assert (w / "target.txt").exists() or (w / "t.png").read_text(encoding="utf-8") == "keep"


# ---- the Python API -----------------------------------------------------------------------------------
def _shared_bomb(levels: int = 9) -> Any:
    node: Any = ["lol"] * 9
    for _ in range(levels):
        node = [node] * 9  # 9**10 leaves, a few hundred bytes of Python objects
    return node


def _self_referential() -> Any:
    node: list[Any] = []
    node.append(node)
    return node


API_CASES: list[tuple[str, Callable[[Path], Any]]] = [
    ("spec-bomb-as-arm-id", lambda p: _spec_data({"arms": [{"id": _shared_bomb()}]})),
    ("spec-bomb-as-change", lambda p: _spec_data({"changes": {"k": _shared_bomb()}})),
    ("spec-self-referential-id", lambda p: _spec_data({"id": _self_referential()})),
    ("spec-huge-arm-list", lambda p: _spec_data({"arms": [{"id": [1]}] * 100_000})),
    ("spec-huge-key", lambda p: _spec_data({"k" * 10**6: 1})),
    ("problem-bomb-list", lambda p: _problem({"parameters": _shared_bomb()})),
    ("problem-bomb-entry", lambda p: _problem({"parameters": {"k1": {"low": _shared_bomb(), "high": 1}}})),
    ("problem-huge-name", lambda p: _problem({"parameters": {"k" * 10**6: {}}})),
    (
        "problem-self-referential-model",
        lambda p: _problem({"model": _self_referential(), "parameters": ["k1"]}),
    ),
    ("load-experiment-bomb", lambda p: _load_spec(p, BOMB + "id: *e\n")),
    ("load-experiment-deep", lambda p: _load_spec(p, _deep_flow(100_000))),
    ("load-experiment-directory", lambda p: _load_spec(p, None)),
    ("unknown-name-huge", lambda p: _raise(_unknown_huge())),
    ("model-name-traversal", lambda p: _simulator("../models/bone_remodeling")),
    ("model-name-huge", lambda p: _simulator("m" * 10**6)),
    ("write-onto-symlink", lambda p: _write(p, lambda t: t.symlink_to(p / "elsewhere"))),
    ("write-onto-fifo", lambda p: _write(p, os.mkfifo)),
    ("write-onto-directory", lambda p: _write(p, Path.mkdir)),
    ("staged-directory-onto-file", lambda p: _staged(p)),
    ("import-sedml-text-not-xml", lambda p: _import_sedml("x" * 10**5)),
]


def _import_sedml(source: str) -> Any:
    from pybrainbone.experiments.sedml import import_sedml

    return import_sedml(source)


def _spec_data(changes: dict[str, Any]) -> Any:
    from pybrainbone.experiments.spec import experiment_from_data

    return experiment_from_data({**GOOD, **changes}, "api")


def _problem(data: dict[str, Any]) -> Any:
    from pybrainbone.sensitivity.problem import problem_from_data

    return problem_from_data(data, {"k1": 1.0, "ks": 2.0}, "toy", "api")


def _load_spec(path: Path, text: str | None) -> Any:
    from pybrainbone.experiments.spec import load_experiment

    if text is not None:
        (path / "s.yaml").write_text(text, encoding="utf-8")
    return load_experiment(path / "s.yaml" if text is not None else path)


def _unknown_huge() -> Exception:
    from pybrainbone.errors import unknown_name

    return unknown_name("parameter", "x" * 10**6, [f"k{i}" for i in range(1000)], "toy")


def _raise(exc: Exception) -> Any:
    raise exc


def _simulator(name: str) -> Any:
    from pybrainbone import Simulator

    return Simulator(name)


def _write(path: Path, make: Callable[[Path], Any]) -> Any:
    from pybrainbone.atomic import write_text_atomic

    target = path / "target.csv"
    make(target)
    return write_text_atomic(target, "new")


def _staged(path: Path) -> Any:
    from pybrainbone.atomic import staged_directory

    (path / "out").write_text("x", encoding="utf-8")
    with staged_directory(path / "out"):
        pass


@pytest.mark.parametrize(("name", "call"), API_CASES, ids=[n for n, _ in API_CASES])
def test_api_refuses_quickly_with_a_short_message(
    name: str, call: Callable[[Path], Any], tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(PyBrainBoneError) as info:
        call(tmp_path)
    message = str(info.value)
    assert "\n" not in message and len(message) < 1000, message[:2000]
    assert time.monotonic() - started < 10, f"{name} took {time.monotonic() - started:.1f} s"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


# ---- exits that are not errors --------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["list"], ["schema"]])
def test_closed_output_pipe_exits_quietly(argv: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # `pybrainbone list | head -0`: the reader is gone before anything is written
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pybrainbone.cli", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CASE_SECONDS,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode in (0, 141), done.stderr
    assert done.stderr == ""


def test_ctrl_c_during_a_multi_spec_run_says_nothing_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pybrainbone.experiments.runner import Runner

    w = Workspace(tmp_path)
    first, second = w.spec("a.yaml"), w.spec("b.yaml", id="other")
    real = Runner.run
    calls: list[str] = []

    def run_then_interrupt(self: Runner, experiment: Any) -> Any:
        calls.append(experiment.id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, experiment)

    monkeypatch.setattr(Runner, "run", run_then_interrupt)
    before = w.snapshot()
    assert main(["run", first, second, "-o", str(w.out), "-q"]) == 130
    line = _one_line(capsys.readouterr().err)
    assert line == "pybrainbone: interrupted; no output was written"
    assert w.snapshot() == before  # the first experiment's outputs were staged, then discarded


def test_ctrl_c_after_some_files_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybrainbone.cli as cli

    real = cli.compile_model
    calls: list[str] = []

    def compile_then_interrupt(name: str) -> Any:
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(name)

    monkeypatch.setattr(cli, "compile_model", compile_then_interrupt)
    assert main(["build", "bone_remodeling", "hpa", "--out", str(tmp_path)]) == 130
    line = _one_line(capsys.readouterr().err)
    assert "1 file(s) had been written" in line and "bone_remodeling.xml" in line
    assert [p.name for p in tmp_path.iterdir()] == ["bone_remodeling.xml"]


def test_sigterm_stops_like_ctrl_c_with_status_143(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybrainbone.cli as cli

    def terminated(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends

    monkeypatch.setattr(cli, "Simulator", terminated)
    assert main(["simulate", "bone_remodeling", "--end", "1", "-o", str(tmp_path / "x.csv")]) == 143
    assert _one_line(capsys.readouterr().err) == "pybrainbone: terminated; no output was written"
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored
    assert list(tmp_path.iterdir()) == []


def test_a_bug_prints_one_line_and_saves_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybrainbone.cli as cli

    def bug(*args: Any, **kwargs: Any) -> Any:
        return 1 / 0

    monkeypatch.setattr(cli, "Simulator", bug)
    assert main(["simulate", "bone_remodeling", "--end", "1", "-o", str(tmp_path / "x.csv")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("pybrainbone: internal error: ZeroDivisionError: division by zero")
    saved = Path(line.rsplit(" ", 1)[-1])
    try:
        assert "Traceback" in saved.read_text(encoding="utf-8") and "def bug" not in line
    finally:
        saved.unlink(missing_ok=True)
    assert list(tmp_path.iterdir()) == []


def test_csv_and_figure_appear_together_or_not_at_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pybrainbone.cli as cli

    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "p.png"))

    monkeypatch.setattr(cli, "save_figure", disk_full)
    argv = ["simulate", "bone_remodeling", "--end", "10", "--points", "3", "-o", str(tmp_path / "x.csv")]
    assert main([*argv, "--plot", str(tmp_path / "p.png")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "p.png: No space left on device; the disk is full" in line
    assert list(tmp_path.iterdir()) == []  # the CSV was ready, but not without its figure


# ---- atomic files ----------------------------------------------------------------------------------------
def test_new_files_honour_the_umask_and_replaced_files_keep_their_mode(tmp_path: Path) -> None:
    from pybrainbone.atomic import write_text_atomic

    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "new.csv", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640
    (tmp_path / "new.csv").chmod(0o604)
    write_text_atomic(tmp_path / "new.csv", "y")
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o604


def test_stale_temporary_files_of_a_killed_write_are_cleaned_up(tmp_path: Path) -> None:
    from pybrainbone.atomic import STALE_SECONDS, write_text_atomic

    stale, fresh, other = (tmp_path / n for n in (".x.csv.abcd1234.csv", ".x.csv.zz99zz99.csv", ".x.csv.bak"))
    for path in (stale, fresh, other):
        path.write_text("left over", encoding="utf-8")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_text_atomic(tmp_path / "x.csv", "new")
    assert not stale.exists() and fresh.exists() and other.exists()


# ---- ensembles ---------------------------------------------------------------------------------------------
def test_an_ensemble_where_every_sample_fails_writes_the_failures_table_it_names(
    tmp_path: Path, toy_models: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(toy_models))
    w = Workspace(tmp_path)
    spec = w.spec("toy.yaml", TOY_SPEC)
    problem = w.text("p.yaml", "parameters: {p4: {low: -2, high: -1}}\n")
    argv = ["sensitivity", "morris", spec, "--params", problem, "--output", "Yf", "-n", "2", "--workers", "1"]
    assert main([*argv, "-o", str(w.out), "-q"]) == 2
    line = _one_line(capsys.readouterr().err)
    table = w.out / "toy.morris.failures.csv"
    assert line.endswith(f"the failures table is {table}")
    failures = pd.read_csv(table)
    assert (
        len(failures) == 4
        and (failures["p4"] < 0).all()
        and failures["reason"].str.contains("non-finite").all()
    )
    assert sorted(p.name for p in w.out.iterdir()) == ["toy.morris.failures.csv"]  # no partial results left


BLOWUP = """model blowup()
  unit time_unit = 86400 second
  unit per_day = 1 / 86400 second
  b = 1 dimensionless
  b has dimensionless
  kb = 0 per_day    // Assumed: test (b blows up at t = 1/kb)
  b' = kb * b * b
end
"""


def test_solver_messages_of_failed_samples_go_into_their_reason_not_the_terminal(
    tmp_path: Path, toy_models: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(toy_models))
    w = Workspace(tmp_path)
    spec = w.spec(
        "blow.yaml",
        {
            "id": "blow",
            "model": "blowup",
            "simulation": {"type": "uniform_time_course", "end": 4, "points": 3},
            "solver": {"maximum_num_steps": 2000},
            "arms": [{"id": "a"}],
            "data_generators": [{"id": "B", "expression": "a.b"}],
        },
    )
    problem = w.text("p.yaml", "parameters: {kb: {low: 1, high: 2}}\n")
    argv = ["sensitivity", "morris", spec, "--params", problem, "--output", "B", "-n", "2", "--workers", "1"]
    assert main([*argv, "-o", str(w.out), "-q"]) == 2
    out, err = capfd.readouterr()  # file-descriptor level: what CVODE prints itself
    assert "CVode" not in out and "CVode" not in err, (out[:500], err[:500])
    assert "all trajectories contain a failed sample" in _one_line(err)
    reasons = pd.read_csv(w.out / "blow.morris.failures.csv")["reason"]
    assert reasons.str.contains("CV_TOO_MUCH_WORK").all()
    assert reasons.str.contains(r"solver output: .*mxstep", regex=True).all()


SLOW_SPEC: dict[str, Any] = {
    "id": "slow",
    "model": "hostile_toy",
    # many output points make each sample take tens of milliseconds: long enough to interrupt
    "simulation": {"type": "uniform_time_course", "end": 40, "points": 15000},
    "arms": [{"id": "a"}],
    "data_generators": [{"id": "Y", "expression": "a.Y"}],
}


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8").split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc to list worker processes")
@pytest.mark.parametrize(
    "how",
    [
        "SIGINT-to-the-process-group",
        pytest.param("SIGTERM", marks=pytest.mark.slow),
        pytest.param("SIGKILL", marks=pytest.mark.slow),
    ],
)
def test_interrupted_two_worker_ensemble_stops_leaves_no_worker_and_resumes(
    how: str,
    tmp_path: Path,
    toy_models: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signal.alarm(4 * CASE_SECONDS)  # three runs of the command, one of them in a fresh interpreter
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(toy_models))
    w = Workspace(tmp_path)
    spec = w.spec("slow.yaml", SLOW_SPEC)
    problem = w.text("p.yaml", "parameters: {k1: {low: 0.25, high: 0.75}, ks: {low: 0.5, high: 1.5}}\n")
    args = [
        "sensitivity",
        "morris",
        spec,
        "--params",
        problem,
        "--output",
        "Y",
        "-n",
        "16",
        "-q",
        "-o",
        str(w.out),
    ]
    partial = w.out / "slow.morris.partial.jsonl"
    run = subprocess.Popen(
        [sys.executable, "-m", "pybrainbone.cli", *args, "--workers", "2", "--chunk-size", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        # ...and with Ctrl-C's default action even when this test runs where SIGINT is ignored (a shell's
        # background job, `time`): an ignored signal is inherited across exec, and Python then never
        # raises KeyboardInterrupt.
        preexec_fn=_default_sigint,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + CASE_SECONDS
    while time.monotonic() < deadline and run.poll() is None:
        workers |= _children(run.pid)
        if partial.exists() and len(partial.read_text(encoding="utf-8").splitlines()) >= 3:
            break
        time.sleep(0.02)
    workers |= _children(run.pid)
    assert run.poll() is None, f"finished before it could be interrupted: {run.communicate()}"
    assert len(workers) >= 2, workers
    sent = time.monotonic()
    if how.startswith("SIGINT"):
        os.killpg(run.pid, signal.SIGINT)
    else:
        os.kill(run.pid, getattr(signal, how))
    _, err = run.communicate(timeout=30)
    assert time.monotonic() - sent < 10, "the run did not stop within 10 s"
    while any(_alive(pid) for pid in workers) and time.monotonic() - sent < 10:
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the run"
    if how == "SIGKILL":
        assert run.returncode == -signal.SIGKILL
    else:
        assert run.returncode == (130 if how.startswith("SIGINT") else 143)
        line = _one_line(err)
        assert "stopped after" in line and "--resume" in line and str(partial) in line, line
    kept = [p.name for p in w.out.iterdir()]
    assert kept == ["slow.morris.partial.jsonl"], kept
    finished = len(partial.read_text(encoding="utf-8").splitlines()) - 1
    assert 0 < finished < 48

    assert main([*args, "--workers", "1"]) == 2  # without --resume the partial results are not overwritten
    assert "add --resume" in _one_line(capsys.readouterr().err)
    # ... nor deleted: the refused run leaves the interrupted one's samples for --resume
    assert len(partial.read_text(encoding="utf-8").splitlines()) - 1 == finished
    assert main([*args, "--workers", "1", "--resume"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    resumed = pd.read_csv(w.out / "slow.morris.csv")
    assert not partial.exists()
    (w.out / "slow.morris.csv").unlink()
    assert main([*args, "--workers", "1", "-o", str(tmp_path / "fresh")]) == 0
    pd.testing.assert_frame_equal(resumed, pd.read_csv(tmp_path / "fresh" / "slow.morris.csv"))


# ---- archives and SED-ML that inflate beyond what is read ---------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "members, message",
    [
        ({"big.sedml": b"<" + b" " * (65 * 2**20)}, "inflates to"),  # one member of 65 MiB (~65 KB zipped)
        ({f"m{i}.xml": b"x" for i in range(1001)}, "archive members"),
    ],
    ids=["member-bomb", "too-many-members"],
)
def test_import_sedml_refuses_archives_that_inflate_too_far(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], members: dict[str, bytes], message: str
) -> None:
    archive = _zip(tmp_path / "bomb.omex", members)
    assert archive.stat().st_size < 2**20
    assert main(["import-sedml", str(archive), "-o", str(tmp_path / "out.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "out.yaml").exists()


def test_import_sedml_refuses_an_oversized_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.sedml"
    path.write_bytes(b"<sedML>" + b" " * (9 * 2**20) + b"</sedML>")
    assert main(["import-sedml", str(path)]) == 2
    assert "at most" in capsys.readouterr().err
