"""notebooks/microsr_super_resolution.ipynb runs top to bottom in quick mode, as a user's Jupyter would.

The notebook is executed with nbclient (what ``pytest --nbmake`` uses) in a temporary folder, with
its own parameters cell untouched (``quick = True`` is the default), and its outputs are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "microsr_super_resolution.ipynb"


def outputs(cell, kind: str) -> list:
    return [o for o in cell.get("outputs", []) if o["output_type"] == kind]


@pytest.mark.slow
def test_notebook_runs_in_quick_mode(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "quick = True" in params[0].source
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "!microsr" not in code and "subprocess" not in code  # the Python API, no shell calls
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    work = tmp_path / "microsr-notebook"
    assert (work / "run-quick" / "model.json").is_file()
    assert (work / "qc" / "report.html").is_file()
    assert len(list((work / "predictions").glob("*.tif"))) == 2
    assert (work / "run-quick.zip").is_file()  # section 7: the bioimage.io package
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2  # the live loss plot and the loss curves, drawn inline
    htmls = "".join(o["data"].get("text/html", "") for c in nb.cells for o in c.get("outputs", []) if "data" in o)
    assert "last validation" in htmls and "PSNR (dB), SSIM, NRMSE against GT" in htmls
    text = "".join(o["text"] for c in nb.cells for o in outputs(c, "stream"))
    assert "model    PSNR" in text and "bicubic  PSNR" in text
    assert "bioimage.io test: passed" in text
    # the package reloaded by microsr.load_model predicts what the run folder predicts
    diff = re.search(r"largest difference from the run folder's prediction: (\S+)", text)
    assert diff is not None and float(diff.group(1)) < 1e-5, text[-2000:]
    assert "max difference from microsr" in htmls
    assert not any(outputs(c, "error") for c in nb.cells)
