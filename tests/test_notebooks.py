"""Every example notebook in notebooks/ runs from top to bottom and draws at least one figure.

Each notebook is executed in a fresh ``python3`` kernel from the notebooks/ directory, with a timeout per
cell. jupyter_client starts the kernel with this interpreter (a kernelspec whose command is ``python``
runs ``sys.executable``), so the notebooks see the same pybrainbone and the same ``PYBRAINBONE_CACHE``
as the tests. Each must produce at least one inline ``image/png`` output (every notebook starts with
``%matplotlib inline``) and no error output. The notebooks are stored without outputs, checked too.
The whole set takes about 30 s on the two-core project machine, so it is not marked ``slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat/nbclient are in the 'docs' extra")
nbclient = pytest.importorskip("nbclient", reason="nbformat/nbclient are in the 'docs' extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the 'docs' extra")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; the slowest cell (tellurium re-running an archive) takes ~15 s


def test_notebooks_are_found_and_stored_without_outputs() -> None:
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert code, f"{path.name}: no code cells"
        stored = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
        assert not stored, f"{path.name}: code cells {stored} were saved with outputs; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: error output {errors[0].get('ename')}: {errors[0].get('evalue')}"
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no inline figure (image/png output)"
