import numpy as np
import pytest

from microsr.data.biosr import read_sim_widefield, widefield_from_sim
from microsr.errors import InputError
from microsr.io import write_image


def _sim_frames(rng, base):
    """9 frames of base * (1 + cos pattern) over 3 angles x 3 phases: the mean is exactly base."""
    yy, xx = np.mgrid[: base.shape[0], : base.shape[1]]
    frames = []
    for ang in (0, np.pi / 3, 2 * np.pi / 3):
        k = 0.7 * np.array([np.cos(ang), np.sin(ang)])
        for ph in (0, 2 * np.pi / 3, 4 * np.pi / 3):
            frames.append(base * (1 + np.cos(k[0] * xx + k[1] * yy + ph)))
    return np.stack(frames)


def test_average_removes_pattern(rng):
    base = rng.random((16, 20)) * 100
    frames = _sim_frames(rng, base)
    assert frames.std(axis=0).mean() > 10  # strongly patterned frames
    np.testing.assert_allclose(widefield_from_sim(frames), base, rtol=1e-5)
    z = np.concatenate([frames, 2 * frames])
    wf = widefield_from_sim(z)
    assert wf.shape == (2, 16, 20) and wf.dtype == np.float32
    np.testing.assert_allclose(wf[1], 2 * base, rtol=1e-5)
    with pytest.raises(ValueError, match="multiple of 9"):
        widefield_from_sim(frames[:8])


def test_read_mrc(tmp_path, rng):
    base = rng.random((12, 12)) * 1000
    frames = _sim_frames(rng, base).astype(np.float32)
    write_image(tmp_path / "cell.mrc", frames, axes="TYX", pixel_size=0.0626)
    img = read_sim_widefield(tmp_path / "cell.mrc")
    assert img.axes == "YX" and img.pixel_size == pytest.approx(0.0626, rel=1e-4)
    np.testing.assert_allclose(img.array, base, rtol=1e-4)
    write_image(tmp_path / "bad.mrc", frames[:7], axes="TYX")
    with pytest.raises(InputError, match=r"bad.mrc.*7 raw frames"):
        read_sim_widefield(tmp_path / "bad.mrc")
