"""How much a finished run's score depends on the intensity offset of its input.

``real_data_ablation.py --shift-low D...`` predicts the held-out part of every finished run of the
given variants again, with the low percentile of the prediction's normalisation moved by each
``D`` (training keeps its own, e.g. 2 % -> 3 % for ``D = 1``), and scores it as ``real_data.py``
does (gain and offset fitted, PSNR). CSBDeep CARE as usually run trains on 1 / 99.8 % and predicts
on 2 / 99.8 % (``CARE.predict`` renormalises every input), i.e. ``D = 1``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from microsr.evaluation.evaluate import evaluate_pair
from microsr.inference.predict import predict_image
from microsr.io import read_image
from microsr.modelcard import load_model_folder


def shifted_psnr(run: Path, data: Path, deltas: list[float]) -> dict[float, float]:
    """PSNR of ``run``'s best weights on ``data``'s held-out images (mean over the files, as
    ``evaluate_folders`` averages them; a stack's planes are separate files) per low-percentile shift."""
    model, info = load_model_folder(run, weights="best", device="cpu")
    scores: dict[float, list[float]] = {d: [] for d in deltas}
    for lr_file in sorted((data / "test" / "lr").glob("*.tif")):
        image = read_image(lr_file)
        hr = read_image(data / "test" / "hr" / lr_file.name).array.astype(np.float64)
        for d in deltas:
            norm = {**info.normalization, "low": info.normalization["low"] + d}
            pred, _ = predict_image(model, replace(info, normalization=norm), image)
            scores[d].append(float(evaluate_pair(hr, pred, fit="affine")["psnr"]))
    return {d: float(np.mean(v)) for d, v in scores.items()}


def shift_table(work: Path, variants: list[str], deltas: list[float]) -> str:
    """Markdown table: per set and variant, the mean PSNR at each shift and every seed's change."""
    shifts = sorted({0.0, *deltas})
    head = " | ".join(f"low {d:+g}" for d in shifts)
    lines = [
        f"| set | variant | n | {head} | per seed, each shift - 0 |",
        "|---|---|---|" + "---|" * (len(shifts) + 1),
    ]
    for data in sorted((work / "data").iterdir()):
        for variant in variants:
            runs = sorted((work / "runs" / data.name / variant).glob("seed*/run"))
            scores = [shifted_psnr(r, data, shifts) for r in runs if (r / "weights").is_dir()]
            if not scores:
                continue
            means = " | ".join(f"{np.mean([s[d] for s in scores]):.2f}" for d in shifts)
            change = "; ".join(
                f"{d:+g}: " + " ".join(f"{s[d] - s[0.0]:+.2f}" for s in scores) for d in shifts if d != 0.0
            )
            lines.append(f"| {data.name} | {variant} | {len(scores)} | {means} | {change} |")
            print(lines[-1], flush=True)
    return "\n".join(lines)
