"""Reading user files (YAML specs and problem files, model text) with one-line errors that name the file.

Input is treated as hostile: only regular files up to :data:`MAX_BYTES` are read, they must be UTF-8, and
YAML is parsed strictly. Aliases (``*name``) are refused, so a small file cannot expand into a huge value
("billion laughs"); duplicate keys are refused instead of silently keeping the last; nesting deeper than
:data:`MAX_DEPTH` is refused before it can exhaust the stack. Every error names the file and the line.

>>> parse_yaml("a: 1\\na: 2\\n", ValueError, "spec.yaml")
Traceback (most recent call last):
...
ValueError: spec.yaml:2: not valid YAML: duplicate key 'a' (first at line 1); give each key once
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from pybrainbone.errors import PyBrainBoneError, shorten

#: Largest input file read (a spec or problem file is a few kilobytes).
MAX_BYTES = 2**20
#: Deepest nesting of YAML collections accepted (specs nest about five deep).
MAX_DEPTH = 50


class _Refused(yaml.MarkedYAMLError):
    """A construct the strict loader refuses; formatted like PyYAML's own errors."""


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: C speed


def _check_events(text: str) -> None:
    """Refuse aliases and nesting deeper than :data:`MAX_DEPTH`, reading parser events (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        mark: Any = event.start_mark  # libyaml's marks have the same fields
        if isinstance(event, yaml.AliasEvent):
            name = str(event.anchor)
            name = name if len(name) <= 30 else name[:27] + "..."
            raise _Refused(None, None, f"YAML aliases are not allowed (*{name}); write the value out", mark)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class StrictLoader(_Base):  # type: ignore[misc]
    """PyYAML's safe loader that refuses duplicate keys (aliases and depth are checked before it runs).

    Examples
    --------
    >>> yaml.load("id: pth\\narms: [control, treated]\\n", Loader=StrictLoader)
    {'id': 'pth', 'arms': ['control', 'treated']}
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """Construct a mapping, refusing a key given twice (PyYAML would keep the last).

        Examples
        --------
        >>> try:
        ...     yaml.load("a: 1\\nb: 2\\na: 3\\n", Loader=StrictLoader)
        ... except yaml.YAMLError as exc:
        ...     print(exc.problem)
        duplicate key 'a' (first at line 1); give each key once
        """
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:
                    continue  # unhashable: PyYAML's own message follows
                if first is not key_node.start_mark:
                    raise _Refused(
                        None,
                        None,
                        f"duplicate key {shorten(key)} (first at line {first.line + 1}); give each key once",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def _yaml_message(exc: yaml.YAMLError, origin: str) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        parts = [p for p in (exc.context, exc.problem) if p]
        text = "; ".join(" ".join(str(p).split()) for p in parts) or type(exc).__name__
    else:
        where, text = origin, " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{where}: not valid YAML: {text}"


def parse_yaml(text: str, error: type[Exception], origin: str) -> Any:
    """Parse YAML ``text`` strictly; raise ``error`` ("<origin>:<line>: not valid YAML: ...") otherwise.

    Examples
    --------
    >>> parse_yaml("id: pth\\nchanges: {P_PTH_ext: 100}\\n", ValueError, "pth.yaml")
    {'id': 'pth', 'changes': {'P_PTH_ext': 100}}
    >>> parse_yaml("a: &x 1\\nb: *x\\n", ValueError, "pth.yaml")
    Traceback (most recent call last):
    ...
    ValueError: pth.yaml:2: not valid YAML: YAML aliases are not allowed (*x); write the value out
    """
    try:
        _check_events(text)
        return yaml.load(text, Loader=StrictLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        raise error(_yaml_message(exc, origin)) from None
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH; kept as a last line of defence
        raise error(f"{origin}: not valid YAML: nested too deeply") from None


def read_text(path: str | Path, error: type[PyBrainBoneError], what: str, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``; ``error`` says plainly why it cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.errors import InputFileError
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "note.txt").write_bytes("\\ufeffbone\\n".encode())
    ...     print(repr(read_text(Path(folder) / "note.txt", InputFileError, "note")))
    'bone\\n'
    >>> read_text("no/such/note.txt", InputFileError, "note")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InputFileError: no note at no/such/note.txt
    """
    path = Path(path)
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise error(f"no {what} at {path}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{path} is a directory, not a {what}; give the path of the file")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path} is not a regular file (a pipe, socket or device); give the {what} as a file")
    if info.st_size > max_bytes:
        raise error(
            f"{path}: {info.st_size} bytes is too large for a {what} (at most {max_bytes}); "
            "is it the right file?"
        )
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except PermissionError:
        raise error(f"{path}: cannot read the {what}: permission denied; check its permissions") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise error(f"{path}: too large for a {what} (more than {max_bytes} bytes); is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def read_yaml(path: str | Path, error: type[PyBrainBoneError], what: str) -> Any:
    """Parse the YAML file ``path`` strictly; raise ``error`` naming the file (and line) otherwise.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.errors import InputFileError
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "problem.yaml").write_text("relative: 0.1\\nparameters: [core_A_OBa]\\n")
    ...     print(read_yaml(Path(folder) / "problem.yaml", InputFileError, "problem file"))
    {'relative': 0.1, 'parameters': ['core_A_OBa']}
    """
    return parse_yaml(read_text(path, error, what), error, str(path))
