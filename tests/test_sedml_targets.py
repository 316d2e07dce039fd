"""Literature targets (and measurement links) survive the SED-ML round trip through the targets sidecar.

SED-ML has no place for them, so ``export_omex`` writes ``<id>.targets.json`` beside ``<id>.sedml`` and
``import_sedml`` reads it back (from the archive, or from beside a ``.sedml`` file). A malformed or
hostile sidecar is refused with one line naming the archive and the member. Nothing here simulates
beyond what the export itself does; one runner compiles each model once for the module.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.scorecard import library_specs
from pybrainbone.experiments.sedml import SedmlError, export_omex, import_sedml, reader, sedml_errors
from pybrainbone.experiments.sedml.common import JSON_FORMAT, SIDECAR_FIELDS
from pybrainbone.experiments.spec import Experiment, load_experiment

#: Library specs with something only the sidecar carries: targets, or measurement links (the fits).
CARRIED = [p for p in library_specs() if any(getattr(load_experiment(p), f) for f in SIDECAR_FIELDS)]
WITH_TARGETS = [p for p in CARRIED if load_experiment(p).targets]


@pytest.fixture(scope="module")
def runner() -> Runner:
    return Runner()


def _manifest(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    text = archive.read("manifest.xml").decode("utf-8")
    return [dict(re.findall(r'(\w+)="([^"]*)"', entry)) for entry in re.findall(r"<content\b[^>]*>", text)]


def _check_archive(omex: Path, experiment: Experiment) -> bytes:
    """What tests/test_sedml_exchange.py checks of an archive, plus the sidecar's entry; its bytes."""
    sedml, sidecar = f"{experiment.id}.sedml", f"{experiment.id}.targets.json"
    with zipfile.ZipFile(omex) as archive:
        names = set(archive.namelist())
        entries = {e["location"]: e for e in _manifest(archive)}
        metadata = archive.read("metadata.rdf").decode("utf-8")
        text = archive.read(sedml).decode("utf-8")
        raw = archive.read(sidecar)
    assert {"model.xml", sedml, sidecar, "manifest.xml", "metadata.rdf"} <= names
    assert "pybrainbone" in metadata and sedml_errors(text) == []
    # The SED-ML stays the one master; the sidecar is plain JSON, listed with its media type.
    assert [location for location, e in entries.items() if e.get("master") == "true"] == [sedml]
    assert entries[sidecar]["format"] == JSON_FORMAT and entries[sidecar].get("master") == "false"
    assert [p.name for p in omex.parent.iterdir()] == [omex.name]  # no temporary file left behind
    return raw


@pytest.mark.parametrize("path", CARRIED, ids=lambda p: p.stem)
def test_targets_survive_the_omex_round_trip(path: Path, tmp_path: Path, runner: Runner) -> None:
    experiment = load_experiment(path)
    omex = export_omex(experiment, tmp_path / "exp.omex", runner=runner)
    raw = _check_archive(omex, experiment)
    data = json.loads(raw.decode("utf-8"))
    assert raw.decode("utf-8") == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert sorted(data) == sorted(f for f in SIDECAR_FIELDS if getattr(experiment, f))
    back = import_sedml(omex)
    assert [t.model_dump() for t in back.targets] == [t.model_dump() for t in experiment.targets]
    assert [m.model_dump() for m in back.measurements] == [m.model_dump() for m in experiment.measurements]
    # The sidecar adds those fields and changes nothing else the SED-ML gives.
    with zipfile.ZipFile(omex) as archive:
        text = archive.read(f"{experiment.id}.sedml").decode("utf-8")
    without = import_sedml(text)
    assert without.targets == [] and without.measurements == []
    assert back == without.model_copy(update={"targets": back.targets, "measurements": back.measurements})


def test_every_spec_with_targets_is_covered() -> None:
    assert len(WITH_TARGETS) >= 20, [p.name for p in WITH_TARGETS]


def test_an_experiment_without_targets_gets_no_sidecar(tmp_path: Path, runner: Runner) -> None:
    plain = next(p for p in library_specs() if p not in CARRIED)
    experiment = load_experiment(plain)
    with zipfile.ZipFile(export_omex(experiment, tmp_path / "plain.omex", runner=runner)) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".json")]
        assert len(_manifest(archive)) == 4  # model, SED-ML, metadata and the archive itself


# ---- a sidecar beside a .sedml file ------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, runner: Runner) -> tuple[Experiment, Path]:
    """A library experiment with targets, exported once."""
    experiment = load_experiment(WITH_TARGETS[0])
    folder = tmp_path_factory.mktemp("good")
    return experiment, export_omex(experiment, folder / "good.omex", runner=runner)


def test_a_sidecar_beside_a_sedml_file_is_read(good: tuple[Experiment, Path], tmp_path: Path) -> None:
    experiment, omex = good
    with zipfile.ZipFile(omex) as archive:
        archive.extractall(tmp_path)
    sedml, sidecar = tmp_path / f"{experiment.id}.sedml", tmp_path / f"{experiment.id}.targets.json"
    assert import_sedml(sedml).targets == experiment.targets
    sidecar.write_text('{"targets": {"id": "x"}}', encoding="utf-8")
    invalid = rf"^{re.escape(str(sidecar))}: targets: Input should be a valid list"
    with pytest.raises(SedmlError, match=invalid):
        import_sedml(sedml)
    sidecar.unlink()
    sidecar.mkdir()
    with pytest.raises(SedmlError, match=r"targets\.json: the targets sidecar is not a regular file"):
        import_sedml(sedml)
    sidecar.rmdir()
    assert import_sedml(sedml).targets == []  # no sidecar: as before
    assert import_sedml(sedml.read_text(encoding="utf-8")).targets == []  # SED-ML text has none


# ---- bad sidecars in an archive ----------------------------------------------------------------------
def _with_sidecar(omex: Path, out: Path, name: str, content: bytes | None) -> Path:
    """A copy of ``omex`` whose member ``name`` holds ``content`` (None: the member is left out)."""
    with zipfile.ZipFile(omex) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            if info.filename != name:
                copy.writestr(info, source.read(info))
        if content is not None:
            copy.writestr(name, content)
    return out


def _bad_target(experiment: Experiment) -> bytes:
    target = {**experiment.targets[0].model_dump(mode="json"), "data_generator": "no_such_generator"}
    return json.dumps({"targets": [target]}).encode("utf-8")


_NAN_TARGET = {"id": "t", "data_generator": "d", "direction": "up", "source": "abc", "value": "NaN"}
#: (case, sidecar content or a function of the experiment giving it (None: missing), expected message)
BAD: list[tuple[str, bytes | Callable[[Experiment], bytes] | None, str]] = [
    ("not-json", b"{targets: [", r"not valid JSON \(Expecting property name"),
    ("not-utf8", b"\xff\xfe{}", r"not UTF-8 \(at byte 0\)"),
    ("list", b"[]", r"must be a JSON object with the spec's targets, measurements, not a list"),
    ("null", b"null", r"not a null"),
    ("targets-not-list", b'{"targets": {"id": "x"}}', r"targets: Input should be a valid list"),
    ("item-not-object", b'{"targets": ["x"]}', r"targets\[0\]: Input should be a valid dictionary"),
    ("unknown-dg", _bad_target, r"target '.+' uses unknown data_generator 'no_such_generator'"),
    ("overrides-arms", b'{"arms": [], "targets": []}', r"unknown field\(s\) 'arms'; a targets sidecar"),
    ("duplicate-key", b'{"targets": [], "targets": []}', r"duplicate key 'targets'"),
    ("nan", json.dumps({"targets": [_NAN_TARGET]}).replace('"NaN"', "NaN").encode(), r"NaN is not a number"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, r"not valid JSON \(nested too deeply\)"),
    ("huge", b'{"targets": [' + b" " * (9 * 2**20) + b"]}", r"inflates to \d+ bytes; at most \d+ are read"),
    ("missing", None, r"listed in the manifest but not in the archive"),
]


@pytest.mark.parametrize(("content", "message"), [pytest.param(c, m, id=i) for i, c, m in BAD])
def test_bad_sidecars_are_refused_naming_archive_and_member(
    good: tuple[Experiment, Path],
    tmp_path: Path,
    content: bytes | Callable[[Experiment], bytes] | None,
    message: str,
) -> None:
    experiment, omex = good
    name = f"{experiment.id}.targets.json"
    raw = content(experiment) if callable(content) else content
    bad = _with_sidecar(omex, tmp_path / "bad.omex", name, raw)
    with pytest.raises(SedmlError) as caught:
        import_sedml(bad)
    text = str(caught.value)
    assert text.startswith(f"{bad}: member '{name}': ") and "\n" not in text and len(text) < 600, text
    assert re.search(message, text), text


def test_an_oversized_sidecar_file_is_refused(
    good: tuple[Experiment, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert reader.MAX_SIDECAR_BYTES <= reader.MAX_MEMBER_BYTES  # an archive member is read at most so far
    experiment, omex = good
    with zipfile.ZipFile(omex) as archive:
        archive.extractall(tmp_path)
    sidecar = tmp_path / f"{experiment.id}.targets.json"
    size = sidecar.stat().st_size
    monkeypatch.setattr(reader, "MAX_SIDECAR_BYTES", size - 1)
    with pytest.raises(SedmlError, match=rf"targets\.json: {size} bytes; at most {size - 1} are read$"):
        import_sedml(tmp_path / f"{experiment.id}.sedml")


# ---- command line -------------------------------------------------------------------------------------
def test_cli_writes_the_sidecar_beside_the_sedml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pybrainbone.cli import main

    out, sidecar = tmp_path / "exp.sedml", tmp_path / "exp.targets.json"
    experiment = load_experiment(WITH_TARGETS[0])
    assert main(["export", "sedml", str(WITH_TARGETS[0]), "-o", str(out)]) == 0
    assert f"wrote {sidecar}" in capsys.readouterr().out
    assert import_sedml(out).targets == experiment.targets
    plain = next(p for p in library_specs() if p not in CARRIED)
    assert main(["export", "sedml", str(plain), "-o", str(out)]) == 0  # no targets: the old sidecar goes
    assert f"removed {sidecar}" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.sedml"]
    assert import_sedml(out).targets == []
