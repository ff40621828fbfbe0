"""Model comparison: tables, paired tests (against scipy directly) and Tukey box plots."""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import stats

from microsr.evaluation import compare


def _rows(a, b, metric="psnr"):
    rows = [{"image": f"im{i}", "model": "A", metric: x} for i, x in enumerate(a)]
    rows += [{"image": f"im{i}", "model": "B", metric: x} for i, x in enumerate(b)]
    return rows


def test_paired_test_equals_scipy_and_names_the_better_model():
    rng = np.random.default_rng(0)
    b = rng.normal(30, 2, 12)
    a = b + rng.normal(0.8, 0.5, 12)
    t = compare.paired_test(_rows(a, b), "A", "B", "psnr")
    assert t["n"] == 12 and t["better"] == "A"
    assert t["wilcoxon_p"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert t["ttest_p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert t["mean_diff"] == pytest.approx(np.mean(a - b))
    # lower NRMSE is better
    t = compare.paired_test(_rows(a, b, "nrmse"), "A", "B", "nrmse")
    assert t["better"] == "B"


def test_paired_test_uses_only_common_images_and_handles_ties():
    rows = _rows([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) + [{"image": "extra", "model": "A", "psnr": 9.0}]
    t = compare.paired_test(rows, "A", "B", "psnr")
    assert t["n"] == 3 and t["better"] == "tie"
    assert t["wilcoxon_p"] is None and t["ttest_p"] is None


def test_rows_from_summaries_include_bicubic_and_all_pairs_are_tested():
    per = [
        {
            "name": f"im{i}",
            "psnr": 30.0 + i,
            "ssim": 0.8,
            "ms_ssim": None,
            "nrmse": 0.1,
            "baseline_psnr": 28.0 + i,
            "baseline_ssim": 0.7,
            "baseline_ms_ssim": None,
            "baseline_nrmse": 0.2,
        }
        for i in range(4)
    ]
    summaries = {
        "m1": {"per_image": per, "baseline": {}},
        "m2": {"per_image": [dict(r, psnr=r["psnr"] - 1) for r in per]},
    }
    rows = compare.per_image_rows(summaries)
    assert compare.models_of(rows) == ["m1", "m2", "bicubic"]
    assert compare.metrics_of(rows) == ["psnr", "ssim", "nrmse"]  # MS-SSIM empty everywhere
    tests = compare.all_paired_tests(rows)
    assert len(tests) == 3 * 3  # 3 pairs x 3 metrics
    table = {(r["model"], r["metric"]): r for r in compare.summary_table(rows)}
    assert table[("bicubic", "psnr")]["mean"] == pytest.approx(29.5)
    assert table[("m1", "psnr")]["std"] == pytest.approx(np.std([30, 31, 32, 33], ddof=1))
    parsed = list(csv.DictReader(io.StringIO(compare.tests_csv_text(tests))))
    assert len(parsed) == 9 and parsed[0]["model_a"] == "m1" and parsed[0]["n"] == "4"


def test_model_names_are_unique_folder_names(tmp_path):
    dirs = [tmp_path / "a" / "pred", tmp_path / "b" / "pred", tmp_path / "rcan", tmp_path / "bicubic"]
    assert compare.model_names(dirs) == ["a/pred", "b/pred", "rcan", "bicubic (model)"]


def test_box_plot_whiskers_follow_tukey_rule():
    values = [1.0, 2.0, 2.5, 3.0, 3.2, 3.5, 4.0, 20.0]  # 20 is beyond Q3 + 1.5 IQR
    fig = compare.box_plots(_rows(values, values), ["psnr"])
    ax = fig.axes[0]
    q1, q3 = np.percentile(values, [25, 75])
    inside = [v for v in values if v <= q3 + 1.5 * (q3 - q1)]
    whisker_tops = [
        max(line.get_ydata())
        for line in ax.lines
        if len(line.get_ydata()) == 2
        and line.get_ydata()[0] != line.get_ydata()[1]
        and min(line.get_ydata()) >= q3
    ]
    assert max(inside) in whisker_tops
    fliers = [line for line in ax.lines if line.get_marker() == "x"]
    assert any(20.0 in line.get_ydata() for line in fliers)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
