"""Property tests: random and mutated TIFF/PNG/JPEG/MRC headers and model.json documents.

Whatever the bytes, the readers either return a well-formed result or raise the one-line
:class:`~microsr.errors.InputError`; never another exception, never a hang. The pixel limit is set
to 10^6 values and the memory the model guard sees to 64 MiB during these tests, so a mutated
header that declares a huge image or model is refused as it would be on a small machine.
Hypothesis draws a fixed number of examples per test (about 20 s in all on an idle 2-core machine).
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import mrcfile
import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from microsr.errors import InputError
from microsr.io import guard, read_image
from microsr.modelcard import build_from_card, read_model_card

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _seed_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    a16 = rng.integers(0, 4000, (24, 20), dtype=np.uint16)
    files = {}
    buf = io.BytesIO()
    tifffile.imwrite(buf, a16, tile=(16, 16), compression="zlib", imagej=False)
    files[".tif"] = buf.getvalue()
    buf = io.BytesIO()
    tifffile.imwrite(
        buf, rng.integers(0, 255, (3, 16, 16), dtype=np.uint8), imagej=True, metadata={"axes": "ZYX"}
    )
    files[".tiff"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(a16.astype(np.uint8)).save(buf, format="PNG")
    files[".png"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(a16.astype(np.uint8)).save(buf, format="JPEG")
    files[".jpg"] = buf.getvalue()
    with tempfile.TemporaryDirectory() as d:
        with mrcfile.new(Path(d) / "a.mrc") as mrc:
            mrc.set_data(a16.astype(np.float32))
        files[".mrc"] = (Path(d) / "a.mrc").read_bytes()
    return files


SEEDS = _seed_files()


@st.composite
def mutated(draw, ext: str) -> bytes:
    data = bytearray(SEEDS[ext])
    head = min(len(data), 1100)  # headers, IFDs, IHDR, the MRC header (1024 bytes)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, head - 1))
        chunk = draw(st.binary(min_size=1, max_size=4))
        data[pos : pos + len(chunk)] = chunk
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@pytest.fixture(autouse=True)
def _small_limits(monkeypatch):
    guard.set_max_pixels(10**6)
    monkeypatch.setattr(guard, "available_memory", lambda: 64 * 2**20)
    yield
    guard.set_max_pixels(None)


def _read(ext: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"fuzz{ext}"
        path.write_bytes(data)
        try:
            image = read_image(path)
        except InputError as exc:
            assert "\n" not in str(exc)
            return
        assert image.array.ndim == len(image.axes) and image.array.size <= 10**6
        assert path.read_bytes() == data


@pytest.mark.parametrize("ext", sorted(SEEDS))
def test_mutated_image_headers(ext):
    @FUZZ
    @given(mutated(ext))
    def run(data):
        _read(ext, data)

    run()


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.binary(max_size=300))
def test_random_bytes_as_images(ext, data):
    _read(ext, SEEDS[ext][:8] + data)  # right magic number, random rest


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
VALID = {
    "format": "microsr-model",
    "format_version": 2,
    "architecture": {
        "name": "srcnn",
        "options": {},
        "tiny": True,
        "in_channels": 1,
        "out_channels": 1,
        "scale": 2,
    },
    "normalization": {"kind": "percentile"},
    "weights": {"best": "weights/best.safetensors", "last": "weights/last.safetensors"},
}
FIELDS = ["format", "format_version", "normalization", "weights", "pixel_size", "architecture"]
ARCH_FIELDS = ["name", "options", "tiny", "in_channels", "out_channels", "scale"]
OPTIONS = ["n_feats", "n_blocks", "kernel_sizes", "res_scale", "growth", "depth"]


@st.composite
def model_docs(draw) -> dict:
    doc = json.loads(json.dumps(VALID))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "arch", "option", "option", "option"]))
        if where == "top":
            doc[draw(st.sampled_from(FIELDS))] = draw(JSON)
        elif where == "arch" and isinstance(doc.get("architecture"), dict):
            doc["architecture"][draw(st.sampled_from(ARCH_FIELDS))] = draw(JSON)
        elif isinstance(doc.get("architecture"), dict) and isinstance(
            doc["architecture"].get("options"), dict
        ):
            doc["architecture"]["name"] = draw(
                st.sampled_from(["srcnn", "edsr", "rcan", "dncnn", "unet-n2n"])
            )
            doc["architecture"]["options"][draw(st.sampled_from(OPTIONS))] = draw(
                st.integers(-2000, 2000) | st.floats() | JSON
            )
    return doc


@FUZZ
@given(model_docs())
def test_model_json_documents(doc):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.json"
        path.write_text(json.dumps(doc))
        try:
            card = read_model_card(d)
            build_from_card(card, path)
        except InputError as exc:
            assert "\n" not in str(exc)
