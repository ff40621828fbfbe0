"""Every trainable single-input architecture's tiny preset exports a package that passes `bioimageio test`.

Cost (measured, see docs/sharing.md): a package with all three weight formats takes about 3x as long
to export and test as one with the state dict only (ONNX export and the extra inference runs), so
every model is tested with its state dict and two architectures with all three formats: DFCAN
(Fourier attention) and SRFBN (feedback steps, multi-output). MHTCUN with all three passes too but
its ONNX export alone took 3 minutes on the shared machine, too long for every test run.
"""

from __future__ import annotations

import pytest

from microsr.models import get_spec, list_models
from tests.export.conftest import make_run

SINGLE_INPUT = [n for n in list_models() if get_spec(n).trainable and not get_spec(n).mask_input]
ALL_FORMATS = {"dfcan", "srfbn"}


@pytest.mark.slow
@pytest.mark.parametrize("name", SINGLE_INPUT)
def test_tiny_preset_package_passes_bioimageio_test(tmp_path, name):
    from bioimageio.core import test_model

    from microsr.export.package import ExportOptions, export_package

    formats = (
        ("pytorch_state_dict", "torchscript", "onnx") if name in ALL_FORMATS else ("pytorch_state_dict",)
    )
    run = make_run(tmp_path, name)
    result = export_package(run, tmp_path / f"{name}.zip", ExportOptions(formats=formats, crop=32))
    assert set(result.errors) == set(formats) and max(result.errors.values()) <= 1e-4
    summary = test_model(result.path, stop_early=True)
    failed = [(d.name, [str(e.msg)[:300] for e in d.errors]) for d in summary.details if d.status == "failed"]
    assert summary.status == "passed", failed


def test_registry_list_is_the_single_input_trainables():
    assert "geometry-prior" not in SINGLE_INPUT and "sftgan" not in SINGLE_INPUT
    assert {"dfcan", "dfgan", "mhtcun", "srfbn", "denseed-9-18-9"} <= set(SINGLE_INPUT)
    assert len(SINGLE_INPUT) == len([n for n in list_models() if get_spec(n).trainable]) - 2
