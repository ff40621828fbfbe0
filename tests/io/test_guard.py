"""Resource guard: declared sizes refused before decoding, the limit and its overrides, options."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from microsr.cli.main import main
from microsr.errors import ConfigError, InputError
from microsr.io import guard, read_image
from tests import hostile_corpus as hc


@pytest.fixture(autouse=True)
def _default_limit(monkeypatch):
    monkeypatch.delenv(guard.ENV_MAX_PIXELS, raising=False)
    guard.set_max_pixels(None)
    yield
    guard.set_max_pixels(None)


@pytest.mark.parametrize("make", [hc.tiff_bomb, hc.png_bomb, hc.png16_colour_bomb, hc.mrc_bomb])
def test_bombs_refused_before_decoding(tmp_path, make):
    path = make(tmp_path)
    assert path.stat().st_size < 2000  # a few hundred bytes declaring >= 10^10 values
    with pytest.raises(
        InputError, match=r"declares 100000x100000.* over the limit of [\d,]+ values set from"
    ):
        read_image(path)


def test_env_and_option_set_the_limit(tmp_path, monkeypatch, capsys):
    path = hc.small_png(tmp_path, size=16)  # 256 values
    monkeypatch.setenv(guard.ENV_MAX_PIXELS, "255")
    with pytest.raises(InputError, match=r"limit of 255 values set by MICROSR_MAX_PIXELS"):
        read_image(path)
    monkeypatch.setenv(guard.ENV_MAX_PIXELS, "256")
    assert read_image(path).shape == (16, 16)
    assert main(["--max-pixels", "100", "resolution", "--input", str(path)]) == 2
    assert "limit of 100 values set by --max-pixels" in capsys.readouterr().err
    monkeypatch.setenv(guard.ENV_MAX_PIXELS, "lots")
    with pytest.raises(ConfigError, match="MICROSR_MAX_PIXELS='lots' is not a number"):
        read_image(path)


def test_pillow_limit_replaced_by_ours(tmp_path, monkeypatch):
    """A PNG over Pillow's own bomb limit (here lowered to 100 pixels, as 179 MP is for a real
    14000 x 13000 mosaic) is read when microsr's limit allows it, with Pillow's limit restored."""
    path = hc.small_png(tmp_path, size=64)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(path)
    assert read_image(path).shape == (64, 64)
    assert Image.MAX_IMAGE_PIXELS == 100


def test_default_limit_follows_the_address_space_limit(tmp_path):
    """Under ``ulimit -v`` the default limit shrinks with it (measured in a subprocess)."""
    code = (
        "import resource; from microsr.io import guard;"
        "free = guard.max_pixels();"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30));"
        "print(free, guard.max_pixels())"
    )
    free, capped = map(
        int,
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split(),
    )
    assert capped <= 3 * 2**30 // guard.BYTES_PER_PIXEL < free or free <= capped


def test_float64_beyond_float32_range(tmp_path):
    with pytest.raises(InputError, match=r"values up to 1.\d+e\+300 exceed the 32-bit float range"):
        read_image(hc.float64_huge(tmp_path))
    ok = tmp_path / "ok.tif"
    import tifffile

    tifffile.imwrite(ok, np.full((8, 8), 1e30))  # float64, but within float32's range
    assert read_image(ok).array.max() == 1e30


def test_check_number():
    guard.check_number("--x", None)
    guard.check_number("--x", 0.5, low=0, low_open=True, high=1)
    for value, message in (
        (float("nan"), "--x must be a finite number, got nan"),
        (float("inf"), "--x must be a finite number, got inf"),
        (0.0, "--x must be > 0, got 0"),
        (2.0, "--x must be <= 1, got 2"),
    ):
        with pytest.raises(InputError, match=message):
            guard.check_number("--x", value, low=0, low_open=True, high=1)


def test_check_memory_names_the_amount():
    with pytest.raises(InputError, match=r"the job would need about 1024\.0 PiB of memory, but only"):
        guard.check_memory(2.0**60, "the job")
    guard.check_memory(1024, "a small job")


def test_check_writable(tmp_path):
    assert guard.check_writable(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        guard.check_writable(tmp_path / "f" / "sub")
    loop = hc.symlink_loop(tmp_path)
    with pytest.raises(InputError, match="symbolic-link loop"):
        guard.check_writable(loop / "out")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match="broken symbolic link"):
        guard.check_writable(tmp_path / "dangling")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_check_writable_permission(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    with pytest.raises(InputError, match="no permission to write"):
        guard.check_writable(ro / "out")


def _can_mount_read_only() -> bool:
    try:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs unshare -m (a private mount namespace)")
def test_read_only_file_system_refused_before_work(tmp_path):
    """Every writing command on a read-only mount: one line naming it, before any work."""
    ro = tmp_path / "ro"
    ro.mkdir()
    hr = tmp_path / "hr"
    hr.mkdir()
    hc.small_png(hr, "a.png", 32)
    commands = [
        f"simulate --structure ccps --count 1 --size 32 --out {ro}/sim --quiet",
        f"degrade --hr {hr} --out {ro}/deg --quiet",
        f"evaluate --pred {hr} --gt {hr} --out {ro}/ev",
        f"train --lr {hr} --hr {hr} --model srcnn --tiny --steps 1 --out {ro}/run --quiet",
    ]
    runner = (
        "import shlex, sys; from microsr.cli.main import main; "
        "[print('exit', main(shlex.split(c)), flush=True) for c in sys.argv[1:]]"
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'mount -t tmpfs -o ro tmpfs {ro} && exec "$0" "$@"']
        + [sys.executable, "-c", runner, *commands],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors = proc.stderr.strip().splitlines()
    assert proc.stdout.split() == ["exit", "2"] * 4, proc.stderr
    assert len(errors) == 4, proc.stderr
    assert all(e.startswith("error: ") and e.endswith(f"read-only file system in {ro}") for e in errors), (
        errors
    )
