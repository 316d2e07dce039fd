"""Provenance write-back: put calibrated values into the model files, with where they came from.

``pybrainbone apply-estimates RESULTS`` (or ``pybrainbone calibrate ... --write-back``) reads a
``<id>.calibration.json`` and, for every estimated parameter, rewrites the one line of the module file
that sets it,

    D_OCp = 2.1e-3 pM_per_day      // OCp -> OCa differentiation rate

becomes

    D_OCp = 0.003131 pM_per_day    // OCp -> OCa differentiation rate. Estimated: synthetic_pth, 95 % CI
    [0.00311, 0.00315] (profile likelihood)

(on one line). Only the number and the source part of the comment change: the name, the unit and the
description stay as they were, and the ``//`` stays in its column where the number allows.

It refuses (and writes nothing) when:

* the parameter is not set on exactly one ``name = number unit`` line (not found, set twice, set by an
  assignment rule or an expression, or sharing its line with another statement);
* that line lives in a module the composition instantiates more than once (``bone_matrix.ant``'s
  ``g_BMU`` is every skeletal site's), unless the composition overrides the parameter for this instance
  on its own line (``spine.g_BMU = 0 dimensionless``), which is then the line edited;
* the result has no profile interval for it, or the profile is open on a side (``--allow-open`` writes
  such an interval with the open side named);
* the model files have changed since the calibration (the compiled SBML's SHA-256 differs from the one in
  the result's provenance; ``--force`` overrides).

Every file is written atomically, all of them together or none (:func:`pybrainbone.atomic.all_or_nothing`).
The model directory is ``PYBRAINBONE_MODELS`` (or ``--models DIR``): tests edit a copy, never ``models/``.

>>> rewrite_line("  k = 2 per_day  // turnover. Source: Smith 2001", 2.5, "Estimated: s1, 95 % CI [2, 3]")
'  k = 2.5 per_day  // turnover. Estimated: s1, 95 % CI [2, 3]'
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pybrainbone.atomic import all_or_nothing, write_text_atomic
from pybrainbone.calibration.likelihood import CalibrationError
from pybrainbone.model_text import _model_lines, read_module
from pybrainbone.paths import models_dir

__all__ = [
    "Edit",
    "ParameterLine",
    "add_apply_estimates_arguments",
    "apply_estimates",
    "describe_edits",
    "estimate_comment",
    "locate_parameter",
    "plan_edits",
    "read_result",
    "rewrite_line",
    "run_apply_estimates",
]

_STATEMENT = re.compile(r"^\s*(?:const\s+|var\s+)?(?P<lhs>[A-Za-z_][\w.]*)\s*=(?!=)")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE_LINE = re.compile(
    rf"^(?P<head>\s*(?:const\s+|var\s+)?[A-Za-z_][\w.]*\s*=\s*)(?P<value>{_NUMBER})"
    r"(?P<unit>\s+[A-Za-z_]\w*)?(?P<pad>\s*)$"
)
_SOURCE_PART = re.compile(r"\b(?:Source|Assumed|Estimated)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class ParameterLine:
    """The one line of a module file that sets a (flat) parameter.

    Examples
    --------
    >>> found = locate_parameter("bone_remodeling", "D_OCp")
    >>> found.path.name, found.name, found.text.split("//")[0].split()
    ('bone_remodeling.ant', 'D_OCp', ['D_OCp', '=', '2.1e-3', 'pM_per_day'])
    """

    parameter: str
    path: Path
    line: int
    name: str
    text: str


@dataclass(frozen=True)
class Edit:
    """One rewritten line: where, the old and the new text.

    Examples
    --------
    >>> edit = Edit("k", Path("toy.ant"), 3, "  k = 2 per_day", "  k = 2.5 per_day  // Estimated: s1")
    >>> edit.where
    'toy.ant:3'
    """

    parameter: str
    path: Path
    line: int
    old: str
    new: str

    @property
    def where(self) -> str:
        """``file:line`` of the edited line.

        Examples
        --------
        >>> Edit("k", Path("m/toy.ant"), 7, "", "").where
        'm/toy.ant:7'
        """
        return f"{self.path}:{self.line}"


# ---- finding the line -----------------------------------------------------------------------------
def _assignments(path: Path, module: str, lhs: str) -> list[tuple[int, str, bool]]:
    """Lines of ``module`` in ``path`` assigning ``lhs`` (number, text, whether the line holds more)."""
    body, _ = _model_lines(path, module)
    found = []
    for number, text in body:
        statements = [s for s in text.partition("//")[0].split(";") if s.strip()]
        for statement in statements:
            match = _STATEMENT.match(statement)
            if match and match.group("lhs") == lhs:
                found.append((number, text, len(statements) > 1))
    return found


def _instance_paths(
    module: str, target: str, directory: Path, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every instance path (``("spine",)``) at which ``target`` is instantiated below ``module``."""
    found = []
    for instance, sub in read_module(module, directory).instances.items():
        path = (*prefix, instance)
        if sub == target:
            found.append(path)
        found += _instance_paths(sub, target, directory, path)
    return found


def _module_at(root: str, path: tuple[str, ...], directory: Path) -> str:
    module = root
    for instance in path:
        module = read_module(module, directory).instances[instance]
    return module


def _candidates(
    module: str, flat: str, directory: Path, path: tuple[str, ...] = ()
) -> list[tuple[Path, int, str, str, bool, tuple[str, ...]]]:
    """(file, line, text, lhs, shares its line, instance path) of every line that could set ``flat``."""
    text = read_module(module, directory)
    found = [(text.path, n, t, flat, more, path) for n, t, more in _assignments(text.path, module, flat)]
    for instance, sub in text.instances.items():
        if not flat.startswith(f"{instance}_"):
            continue
        local = flat[len(instance) + 1 :]
        override = _assignments(text.path, module, f"{instance}.{local}")
        if override:
            found += [(text.path, n, t, f"{instance}.{local}", more, path) for n, t, more in override]
        else:
            found += _candidates(sub, local, directory, (*path, instance))
    return found


def _check_not_shared(root: str, parameter: str, local: str, path: tuple[str, ...], directory: Path) -> None:
    """Refuse a module line that other instances of the same module also read."""
    module = _module_at(root, path, directory)
    others = []
    for other in _instance_paths(root, module, directory):
        if other == path:
            continue
        parent = _module_at(root, other[:-1], directory)
        if not _assignments(read_module(parent, directory).path, parent, f"{other[-1]}.{local}"):
            others.append(".".join(other))
    if others:
        where = read_module(module, directory).path.name
        raise CalibrationError(
            f"cannot write back {parameter}: {where} sets {local} for every instance of {module} "
            f"({'.'.join(path)}, {', '.join(others)}); add an override line "
            f"'{'.'.join(path)}.{local} = <value> <unit>' to {read_module(root, directory).path.name} first"
        )


def locate_parameter(model: str, parameter: str, directory: str | Path | None = None) -> ParameterLine:
    """The one ``name = number unit`` line setting flat ``parameter`` of ``model`` (refuses otherwise).

    Examples
    --------
    >>> locate_parameter("brain_bone_axis", "core_D_OCp").path.name
    'bone_remodeling.ant'
    >>> locate_parameter("brain_bone_axis", "spine_g_BMU").name  # the composition's override line
    'spine.g_BMU'
    >>> locate_parameter("brain_bone_axis", "spine_vb_ref")
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: cannot write back spine_vb_ref: bone_matrix.ant sets
    vb_ref for every instance of bone_matrix (spine, hip, trab); add an override line
    'spine.vb_ref = <value> <unit>' to brain_bone_axis.ant first
    >>> locate_parameter("bone_remodeling", "D_OCpp")
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: cannot write back D_OCpp: no line of
    bone_remodeling's model files sets it
    """
    root = Path(directory) if directory is not None else models_dir()
    found = _candidates(model, parameter, root)
    if not found:
        raise CalibrationError(f"cannot write back {parameter}: no line of {model}'s model files sets it")
    if len(found) > 1:
        places = ", ".join(f"{p.name}:{n}" for p, n, *_ in found)
        raise CalibrationError(f"cannot write back {parameter}: it is set on several lines ({places})")
    ((path, number, text, lhs, more, instances),) = found
    where = f"{path.name}:{number}"
    if more:
        raise CalibrationError(
            f"cannot write back {parameter}: {where} holds other statements too; give it a line of its own"
        )
    if not _VALUE_LINE.match(text.partition("//")[0]):
        raise CalibrationError(
            f"cannot write back {parameter}: {where} does not set it to a plain number with a unit"
        )
    if instances and "." not in lhs:
        _check_not_shared(model, parameter, lhs, instances, root)
    return ParameterLine(parameter, path, number, lhs, text)


# ---- rewriting it --------------------------------------------------------------------------------------
def _number(value: float) -> str:
    return f"{value:.4g}"


def estimate_comment(
    datasets: Sequence[str], low: float, high: float, open_side: str = "", *, prior: bool = False
) -> str:
    """The source part a written-back line gets (``prior``: the fit used the parameter's literature prior).

    Examples
    --------
    >>> estimate_comment(["swan_greendale2012"], 0.0123456, 0.45)
    'Estimated: swan_greendale2012, 95 % CI [0.0123, 0.45] (profile likelihood)'
    >>> estimate_comment(["a", "b"], 1.0, 10.0, "upper side open")
    'Estimated: a, b, 95 % CI [1, 10] (profile likelihood; upper side open at the search bound)'
    >>> estimate_comment(["a"], 1.0, 10.0, prior=True)
    'Estimated: a, 95 % CI [1, 10] (profile likelihood; with the literature prior of data/priors.yaml)'
    """
    note = f"; {open_side} at the search bound" if open_side else ""
    note += "; with the literature prior of data/priors.yaml" if prior else ""
    return f"Estimated: {', '.join(datasets)}, 95 % CI [{low:.3g}, {high:.3g}] (profile likelihood{note})"


def rewrite_line(text: str, value: float, source: str) -> str:
    """``text`` with its number replaced by ``value`` and the source part of its comment by ``source``.

    The unit and the description before the old ``Source:``/``Assumed:``/``Estimated:`` stay.

    Examples
    --------
    >>> rewrite_line("  D_OCp = 2.1e-3 pM_per_day    // OCp -> OCa differentiation rate", 0.003131,
    ...              "Estimated: s1, 95 % CI [0.0031, 0.0032] (profile likelihood)")
    '  D_OCp = 0.003131 pM_per_day  // OCp -> OCa differentiation rate. Estimated: s1, 95 % CI [0.0031,
    0.0032] (profile likelihood)'
    >>> rewrite_line("g = 0 dimensionless", 0.05, "Estimated: s1")
    'g = 0.05 dimensionless  // Estimated: s1'
    >>> rewrite_line("g := 2 * k", 1.0, "Estimated: s1")
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: not a 'name = number unit' line: 'g := 2 * k'
    """
    code, slashes, comment = text.partition("//")
    match = _VALUE_LINE.match(code)
    if not match or not math.isfinite(value):
        raise CalibrationError(f"not a 'name = number unit' line: {text!r}")
    marker = _SOURCE_PART.search(comment)
    description = (comment[: marker.start()] if marker else comment).strip().rstrip(" .;")
    new_code = f"{match.group('head')}{_number(value)}{match.group('unit') or ''}"
    width = len(code) if slashes else 0
    padding = " " * max(2, width - len(new_code))
    return f"{new_code}{padding}// {description + '. ' if description else ''}{source}"


# ---- from a calibration result -------------------------------------------------------------------------
def read_result(results: str | Path) -> tuple[Path, dict[str, Any]]:
    """The ``<id>.calibration.json`` at ``results`` (a file, or a directory holding exactly one) and its
    content.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "fit.calibration.json").write_text('{"estimates": {"k": 2.0}}')
    ...     path, summary = read_result(folder)
    ...     print(path.name, summary["estimates"])
    fit.calibration.json {'k': 2.0}
    """
    path = Path(results)
    if path.is_dir():
        found = sorted(path.glob("*.calibration.json"))
        if len(found) != 1:
            names = ", ".join(p.name for p in found) or "none"
            raise CalibrationError(
                f"{path} must hold exactly one <id>.calibration.json (found {names}); name the file"
            )
        path = found[0]
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"cannot read the calibration result {path}: {exc}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("estimates"), dict):
        raise CalibrationError(f"{path} is not a calibration result (no 'estimates')")
    return path, summary


def _datasets(summary: Mapping[str, Any]) -> list[str]:
    if summary.get("datasets"):
        return [str(d) for d in summary["datasets"]]
    return sorted({str(row["dataset"]) for row in summary.get("chi2", [])})


def _interval(summary: Mapping[str, Any], name: str, allow_open: bool) -> tuple[float, float, str]:
    rows = {row["parameter"]: row for row in summary.get("profiles", []) if isinstance(row, dict)}
    if name not in rows:
        raise CalibrationError(
            f"cannot write back {name}: the result has no profile interval for it (calibrate without "
            "--no-profile)"
        )
    row = rows[name]
    status = str(row.get("status", ""))
    side = status.partition("(")[2].rstrip(")") if status != "identifiable" else ""
    if side and not allow_open:
        raise CalibrationError(
            f"cannot write back {name}: it is {status}; the data do not bound it (--allow-open writes it "
            "with the open side named)"
        )
    return float(row["ci_low"]), float(row["ci_high"]), side


def _check_model(summary: Mapping[str, Any], directory: Path) -> str:
    from pybrainbone.build import compile_model
    from pybrainbone.run_record import content_hash

    provenance = summary.get("provenance") or {}
    name = provenance.get("model")
    if not name:
        raise CalibrationError("the result's provenance names no model")
    recorded = provenance.get("model_sha256")
    current = content_hash(compile_model(str(name), directory).sbml)
    if recorded != current:
        raise CalibrationError(
            f"the model files in {directory} are not the ones calibrated (model SHA-256 {current[:12]} "
            f"now, {str(recorded)[:12]} in the result); re-run the calibration, or --force"
        )
    return str(name)


def plan_edits(
    summary: Mapping[str, Any],
    directory: str | Path | None = None,
    *,
    parameters: Sequence[str] | None = None,
    allow_open: bool = False,
    force: bool = False,
) -> list[Edit]:
    """The line edits that write ``summary``'s estimates (of ``parameters``, default all) back.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pybrainbone.paths import model_path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = shutil.copy(model_path("bone_remodeling"), tmp.name)
    >>> summary = {"estimates": {"D_OCp": 0.003131}, "datasets": ["s1"],
    ...            "profiles": [{"parameter": "D_OCp", "ci_low": 0.0031, "ci_high": 0.00316,
    ...                          "status": "identifiable"}],
    ...            "provenance": {"model": "bone_remodeling"}}
    >>> (edit,) = plan_edits(summary, tmp.name, force=True)
    >>> edit.new.split("//")[1].strip()
    'OCp -> OCa differentiation rate. Estimated: s1, 95 % CI [0.0031, 0.00316] (profile likelihood)'
    >>> tmp.cleanup()
    """
    root = Path(directory) if directory is not None else models_dir()
    model = str((summary.get("provenance") or {}).get("model", ""))
    if not force:
        model = _check_model(summary, root)
    elif not model:
        raise CalibrationError("the result's provenance names no model")
    estimates = {str(k): float(v) for k, v in summary["estimates"].items()}
    chosen = list(estimates) if not parameters else list(parameters)
    unknown = [p for p in chosen if p not in estimates]
    if unknown:
        raise CalibrationError(
            f"the result estimates no {', '.join(unknown)} (it has {', '.join(estimates)})"
        )
    datasets = _datasets(summary)
    edits = []
    for name in chosen:
        low, high, side = _interval(summary, name, allow_open)
        found = locate_parameter(model, name, root)
        with_prior = name in (summary.get("priors") or {})
        comment = estimate_comment(datasets, low, high, side, prior=with_prior)
        new = rewrite_line(found.text, estimates[name], comment)
        edits.append(Edit(name, found.path, found.line, found.text, new))
    lines = [(e.path, e.line) for e in edits]
    if len(set(lines)) != len(lines):
        raise CalibrationError(
            "two estimated parameters resolve to the same line; write them back one by one"
        )
    return edits


def apply_estimates(
    results: str | Path,
    directory: str | Path | None = None,
    *,
    parameters: Sequence[str] | None = None,
    allow_open: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> list[Edit]:
    """Write the estimates of the result at ``results`` into the model files of ``directory`` (default
    ``PYBRAINBONE_MODELS`` or ``models/``), all files together; return the edits (``dry_run``: only that).

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pybrainbone.paths import model_path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> target = Path(shutil.copy(model_path("bone_remodeling"), tmp.name))
    >>> result = Path(tmp.name) / "fit.calibration.json"
    >>> _ = result.write_text(json.dumps({"estimates": {"kout_BMD": 0.0048}, "datasets": ["s1"],
    ...     "profiles": [{"parameter": "kout_BMD", "ci_low": 0.0046, "ci_high": 0.005,
    ...                   "status": "identifiable"}], "provenance": {"model": "bone_remodeling"}}))
    >>> (edit,) = apply_estimates(result, tmp.name, force=True)
    >>> lines = target.read_text(encoding="utf-8").splitlines()
    >>> [line for line in lines if line.lstrip().startswith("kout_BMD =")]
    ['  kout_BMD = 0.0048 per_day                        // BMD turnover, 3.97e-4 /h x 24 h/day. Estimated:
    s1, 95 % CI [0.0046, 0.005] (profile likelihood)']
    >>> tmp.cleanup()
    """
    root = Path(directory) if directory is not None else models_dir()
    _, summary = read_result(results)
    edits = plan_edits(summary, root, parameters=parameters, allow_open=allow_open, force=force)
    if dry_run:
        return edits
    by_file: dict[Path, list[Edit]] = {}
    for edit in edits:
        by_file.setdefault(edit.path, []).append(edit)
    with all_or_nothing():
        for path, changes in by_file.items():
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines(keepends=True)
            for edit in changes:
                old = lines[edit.line - 1]
                if old.rstrip("\r\n") != edit.old:
                    raise CalibrationError(f"{edit.where} changed while writing back; nothing was written")
                lines[edit.line - 1] = edit.new + old[len(old.rstrip("\r\n")) :]
            write_text_atomic(path, "".join(lines))
    return edits


def describe_edits(edits: Sequence[Edit], dry_run: bool = False) -> str:
    """One line per edit: parameter, file:line and the new line.

    Examples
    --------
    >>> print(describe_edits([Edit("k", Path("toy.ant"), 3, "k = 2 per_day", "k = 2.5 per_day  // E")]))
    wrote back 1 estimate(s):
      k -> toy.ant:3: k = 2.5 per_day  // E
    """
    verb = "would write back" if dry_run else "wrote back"
    lines = [f"{verb} {len(edits)} estimate(s):"]
    lines += [f"  {e.parameter} -> {e.where}: {e.new.strip()}" for e in edits]
    return "\n".join(lines)


# ---- the command ---------------------------------------------------------------------------------------
def add_apply_estimates_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``pybrainbone apply-estimates``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pybrainbone apply-estimates")
    >>> add_apply_estimates_arguments(parser)
    >>> args = parser.parse_args(["results/calibration", "--dry-run"])
    >>> args.results, args.dry_run, args.models
    ('results/calibration', True, None)
    """
    p.add_argument("results", metavar="RESULTS", help="a calibrate output directory or <id>.calibration.json")
    p.add_argument(
        "--models", metavar="DIR", help="model directory to edit (default: PYBRAINBONE_MODELS or models/)"
    )
    p.add_argument("--parameters", nargs="+", metavar="NAME", help="only these estimates (default: all)")
    p.add_argument("--dry-run", action="store_true", help="show the new lines, write nothing")
    p.add_argument("--allow-open", action="store_true", help="also write estimates whose profile is open")
    p.add_argument(
        "--force", action="store_true", help="even if the model files changed since the calibration"
    )


def run_apply_estimates(args: argparse.Namespace) -> int:
    """``pybrainbone apply-estimates RESULTS [--models DIR] [--dry-run]``.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pybrainbone.paths import model_path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = shutil.copy(model_path("bone_remodeling"), tmp.name)
    >>> result = Path(tmp.name) / "fit.calibration.json"
    >>> _ = result.write_text(json.dumps({"estimates": {"D_OCp": 0.003}, "datasets": ["s1"],
    ...     "profiles": [{"parameter": "D_OCp", "ci_low": 0.0029, "ci_high": 0.0031,
    ...                   "status": "identifiable"}], "provenance": {"model": "bone_remodeling"}}))
    >>> args = argparse.Namespace(results=str(result), models=tmp.name, parameters=None, dry_run=True,
    ...                           allow_open=False, force=True)
    >>> run_apply_estimates(args)
    would write back 1 estimate(s):
      D_OCp -> .../bone_remodeling.ant:82: D_OCp = 0.003 pM_per_day ... Estimated: s1, 95 % CI [0.0029,
      0.0031] (profile likelihood)
    0
    >>> tmp.cleanup()
    """
    edits = apply_estimates(
        args.results, args.models, parameters=args.parameters, allow_open=args.allow_open, force=args.force,
        dry_run=args.dry_run,
    )  # fmt: skip
    print(describe_edits(edits, dry_run=args.dry_run))
    return 0
