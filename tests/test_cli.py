"""The command line follows the API, writes outputs atomically and fails with one clear line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pybrainbone.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_list_models(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["list"], capsys)
    assert code == 0
    assert "bone_remodeling" in out.split()


def test_list_one_model_shows_names_and_units(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["list", "bone_remodeling"], capsys)
    assert code == 0
    assert "OBa\tpM" in out
    assert "A_OBa\t0.189\tper_day" in out


def test_build_writes_valid_sbml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["build", "bone_remodeling", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert (tmp_path / "bone_remodeling.xml").read_text(encoding="utf-8").startswith("<?xml")
    assert "0 errors, 0 unit warnings" in out


def test_simulate_writes_csv_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv, png = tmp_path / "out.csv", tmp_path / "out.png"
    code, _, err = run(
        [
            "simulate",
            "bone_remodeling",
            "--end",
            "365",
            "--points",
            "13",
            "--set",
            "P_PTH_ext=100",
            "-o",
            str(csv),
            "--plot",
            str(png),
        ],
        capsys,
    )
    assert code == 0, err
    frame = pd.read_csv(csv, index_col=0)
    assert frame.index.name == "time [day]"
    assert len(frame) == 13
    assert "BMD [percent]" in frame.columns and "OCa [pM]" in frame.columns
    assert frame["BMD [percent]"].iloc[-1] < 100.0  # continuous PTH is catabolic
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "bone_remodelling", "--end", "10"], "no model named 'bone_remodelling'"),
        (["simulate", "bone_remodeling", "--end", "10", "--set", "P_PTH=1"], "unknown parameter 'P_PTH'"),
        (["simulate", "bone_remodeling", "--end", "10", "--set", "P_PTH_ext=abc"], "is not a number"),
        (["simulate", "bone_remodeling", "--end", "10", "--set", "P_PTH_ext=nan"], "must be finite"),
        (["simulate", "bone_remodeling", "--end", "-5"], "--end must be a positive"),
        (["simulate", "bone_remodeling", "--end", "10", "--set", "P_PTH_ext"], "expects NAME=VALUE"),
        (["simulate", "bone_remodeling", "--end", "10", "--select", "OCA"], "unknown variable 'OCA'"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    csv = tmp_path / "out.csv"
    code, _out, err = run([*args, "-o", str(csv), "--plot", str(tmp_path / "p.png")], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, f"expected one line, got: {err!r}"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_malformed_model_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.ant").write_text("model broken()\n  x = = 1\nend\n", encoding="utf-8")
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(tmp_path))
    code, _, err = run(["simulate", "broken", "--end", "1", "-o", str(tmp_path / "x.csv")], capsys)
    assert code == 2
    assert "broken.ant:2: Antimony:" in err
    assert not (tmp_path / "x.csv").exists()


def test_console_script_is_installed() -> None:
    exe = shutil.which("pybrainbone", path=str(Path(sys.executable).parent))
    assert exe, "the pybrainbone console script is not installed next to this Python"
    done = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0
    assert "simulate" in done.stdout


def test_list_shows_descriptions_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "brain_bone_axis"]) == 0
    lines = {line.split("\t")[0]: line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert lines["HPA_g_CRH"][3].startswith("CRH removal")
    assert lines["HPA_g_CRH"][4].startswith("Karin et al. 2020")
