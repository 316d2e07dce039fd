"""The slow-tier bookkeeping (tests/tiers.py): a tier is skipped only while its inputs are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import tiers


def test_digest_is_stable_and_follows_the_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.ant").write_text("model a()\nend\n", encoding="utf-8")
    monkeypatch.setattr(tiers, "REPO", tmp_path)
    monkeypatch.setattr(tiers, "TIERS", {"t": tiers.Tier(files=("models/*.ant",), distributions=("numpy",))})
    first = tiers.tier_digest("t")
    assert tiers.tier_digest("t") == first
    (tmp_path / "models" / "a.ant").write_text("model a()\n  x = 1\nend\n", encoding="utf-8")
    assert tiers.tier_digest("t") != first
    (tmp_path / "models" / "a.ant").write_text("model a()\nend\n", encoding="utf-8")
    (tmp_path / "models" / "b.ant").write_text("", encoding="utf-8")
    assert tiers.tier_digest("t") != first, "a new input file changes the digest"


def test_a_tier_runs_unless_its_recorded_pass_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passes = tmp_path / "tier_passes.json"
    monkeypatch.setattr(tiers, "PASSES", passes)
    monkeypatch.setattr(tiers, "tier_digest", lambda tier: "abc")
    assert tiers.unchanged_since_pass("t") is None  # never recorded: run it
    passes.write_text(json.dumps({"t": {"digest": "old", "recorded": "2026-12-01"}}), encoding="utf-8")
    assert tiers.unchanged_since_pass("t") is None  # inputs changed: run it
    passes.write_text(json.dumps({"t": {"digest": "abc", "recorded": "2026-12-01"}}), encoding="utf-8")
    assert tiers.unchanged_since_pass("t") == {"digest": "abc", "recorded": "2026-12-01"}


def test_every_tier_is_a_registered_marker(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(tiers.TIERS) <= registered


def test_a_compiled_model_tier_follows_the_sbml_not_the_source_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tiers, "REPO", tmp_path)
    monkeypatch.setattr(tiers, "TIERS", {"t": tiers.Tier(files=(), compiled_models=True)})
    sbml = {"m": b"<sbml>1</sbml>"}
    monkeypatch.setattr(tiers, "_compiled_models", lambda: sorted(sbml.items()))
    first = tiers.tier_digest("t")
    (tmp_path / "unrelated.py").write_text("x = 1\n", encoding="utf-8")
    assert tiers.tier_digest("t") == first, "a file outside the tier's inputs does not count"
    sbml["m"] = b"<sbml>2</sbml>"
    assert tiers.tier_digest("t") != first, "a changed SBML text does"


def test_the_exported_sbml_carries_no_checkout_path() -> None:
    """The AMICI tier is keyed on the SBML: a build with the checkout's path would rerun it in a clone."""
    first = dict(tiers._compiled_models())
    assert set(first) >= {"brain_bone_axis", "hpa", "bone_remodeling"}
    text = first["brain_bone_axis"].decode()
    assert str(tiers.REPO) not in text
    assert "<sbml" in text
