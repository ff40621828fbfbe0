"""Test-time augmentation groups, their averaging and the run's recorded choice."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from microsr.data.augment import dihedral, inverse_dihedral
from microsr.engine.validate import choose_tta, make_val_batch
from microsr.inference.tta import TTA_GROUPS, TransformAverage, resolve_tta, tta_transforms
from microsr.modelcard import ModelInfo
from microsr.modelcard.schema import ArchitectureCard, ModelCard
from microsr.models.outputs import SROutput


class BlurAlongXPlusRamp(nn.Module):
    """Nearest 2x up-sampling, a [1, 2, 1] / 4 blur along X and, with ``ramp``, a ramp along X.

    The blur is unchanged by mirrors but not by quarter turns; the ramp changes sign under a
    left-right mirror, so the mirrors' average cancels it exactly.
    """

    def __init__(self, ramp: float = 0.0) -> None:
        super().__init__()
        self.ramp = ramp

    def forward(self, x):
        y = x.repeat_interleave(2, -2).repeat_interleave(2, -1)
        k = torch.tensor([1.0, 2.0, 1.0], dtype=y.dtype).view(1, 1, 1, 3) / 4
        y = F.conv2d(F.pad(y, (1, 1, 0, 0), mode="replicate"), k)
        return y + self.ramp * torch.linspace(-1, 1, y.shape[-1], dtype=y.dtype)


def test_groups_are_the_identity_mirrors_and_all_eight():
    assert TTA_GROUPS["none"] == (0,) and len(TTA_GROUPS["all"]) == 8
    x = torch.arange(12.0).view(3, 4)
    mirrors = {tuple(dihedral(x, k).flatten().tolist()) for k in TTA_GROUPS["flips"]}
    expected = {x, x.flip(-1), x.flip(-2), x.flip(-1).flip(-2)}
    assert mirrors == {tuple(e.flatten().tolist()) for e in expected}
    assert tta_transforms(True) == TTA_GROUPS["all"] and tta_transforms(False) == (0,)
    with pytest.raises(ValueError, match="unknown test-time augmentation 'spin'"):
        tta_transforms("spin")


def test_average_equals_the_hand_written_mean_also_for_named_outputs(rng):
    x = torch.from_numpy(rng.random((2, 1, 6, 10), dtype="float32"))
    net = BlurAlongXPlusRamp(ramp=0.3)
    expect = sum(inverse_dihedral(net(dihedral(x, k)), k) for k in TTA_GROUPS["flips"]) / 4
    torch.testing.assert_close(TransformAverage(net, TTA_GROUPS["flips"])(x), expect)

    class Named(nn.Module):
        def forward(self, x):
            y = net(x)
            return SROutput(y, {"stage1": 2 * y})

    out = TransformAverage(Named(), TTA_GROUPS["flips"])(x)
    torch.testing.assert_close(out.final, expect)
    torch.testing.assert_close(out.aux["stage1"], 2 * expect)


def _info(card_extra=None, raw=None):
    arch = ArchitectureCard(name="srcnn", options={}, tiny=True, in_channels=1, out_channels=1, scale=2)
    card = None if card_extra is None else ModelCard(architecture=arch, **card_extra)
    return ModelInfo(Path("m"), "srcnn", {}, True, 1, 1, 2, {}, Path("w"), raw=raw or {}, card=card)


def test_auto_resolves_to_the_recorded_choice():
    assert resolve_tta("auto", _info({"tta": {"chosen": "flips"}})) == "flips"
    assert resolve_tta("auto", _info({})) == "none"  # a run trained before the choice was made
    assert resolve_tta("auto", _info(None, {"name": "x"})) == "none"  # another tool's package
    assert resolve_tta("auto", _info({"tta": {"chosen": "bogus"}})) == "none"
    assert resolve_tta("auto", _info({"tta": "flips"})) == "none"  # not a record
    assert resolve_tta(True, _info({})) == "all"
    assert resolve_tta("none", _info({"tta": {"chosen": "all"}})) == "none"


def _batches(rng, ramp_in_truth: float = 0.0):
    batches = []
    for _ in range(2):
        lr = rng.random((16, 24), dtype="float32")
        hr = BlurAlongXPlusRamp(ramp_in_truth)(torch.from_numpy(lr)[None, None])[0, 0].numpy()
        batches.append(make_val_batch(lr, hr))
    return batches


def _l1(out, batch):
    return torch.mean(torch.abs(out - batch["hr"])), {}


@pytest.mark.parametrize(
    ("model_ramp", "truth_ramp", "chosen"),
    [
        (0.2, 0.0, "flips"),  # mirrors cancel the model's error; quarter turns blur along Y
        (0.0, 0.0, "none"),  # mirrors change nothing (up to rounding): the cheaper group stays
        (0.2, 0.2, "none"),  # the truth is not mirror-symmetric: averaging mirrors loses it
    ],
)
def test_choice_on_validation_images(rng, model_ramp, truth_ramp, chosen):
    batches = _batches(rng, truth_ramp)
    net = BlurAlongXPlusRamp(model_ramp)
    rec = choose_tta(net, batches, _l1, lambda m, b: m(b["lr"]), torch.device("cpu"), "val_loss")
    assert rec["chosen"] == chosen and rec["monitor"] == "val_loss"
    assert set(rec["scores"]) == set(TTA_GROUPS) and all(math.isfinite(v) for v in rec["scores"].values())
    assert rec["scores"]["all"] > rec["scores"]["flips"]  # Y-blur from the quarter turns
    psnr = choose_tta(net, batches, _l1, lambda m, b: m(b["lr"]), torch.device("cpu"), "psnr")
    assert psnr["chosen"] == chosen  # higher is better for PSNR


def test_no_validation_images_choose_nothing():
    rec = choose_tta(BlurAlongXPlusRamp(), [], _l1, lambda m, b: m(b["lr"]), torch.device("cpu"), "val_loss")
    assert rec == {"chosen": "none", "monitor": "val_loss", "scores": {}}
