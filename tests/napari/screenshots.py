"""Write docs/napari.md's screenshots with the widget tests' own scenes, in a real viewer.

Run under an X server (Xvfb), from the repository root::

    xvfb-run -a python -m tests.napari.screenshots --out docs/figures/napari

It simulates six 128 px microtubule pairs, trains a tiny SRCNN on them for 150 steps (about a
minute on a CPU), then drives the Train, Super-resolve and Quality widgets exactly as
``test_widgets.py`` does (``scenes.py``) and saves a screenshot of the window after each.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import napari

import microsr
from tests.simulated_pairs import write_pairs

from . import scenes


def shot(viewer, path: Path) -> None:
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    viewer.window.resize(1500, 900)
    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # napari's own start-up warnings (e.g. PyQt5 deprecation) cover the canvas
    napari.qt.get_qapp().processEvents()
    viewer.screenshot(str(path), canvas_only=False, flash=False)
    print("wrote", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/figures/napari"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pairs = write_pairs(Path(tmp) / "pairs", count=6, size=128)
        settings = {"data.patch_size": 32, "data.batch_size": 4, "val_every": 50, "device": "cpu"}
        settings.update({"data.val_fraction": 0.2, "optimizer.lr": 1e-3})
        model = microsr.train(
            pairs / "lr",
            pairs / "hr",
            Path(tmp) / "model",
            model="srcnn",
            tiny=True,
            steps=150,
            settings=settings,
        ).folder

        viewer = napari.Viewer()
        scenes.train(viewer, pairs, Path(tmp) / "run", steps=40)
        shot(viewer, args.out / "train.png")
        viewer.close()

        viewer = napari.Viewer()
        widget, _ = scenes.super_resolve(viewer, pairs, model, tile=64)
        viewer.layers["cell HR"].visible = False
        viewer.reset_view()
        shot(viewer, args.out / "super_resolve.png")
        viewer.close()

        viewer = napari.Viewer()
        scenes.super_resolve(viewer, pairs, model, tile=64)
        scenes.quality(viewer, pairs, prediction_name="cell LR x2 srcnn")
        for name in ("cell LR", "cell HR", "cell LR x2 srcnn SSIM map", "cell LR x2 srcnn abs error"):
            viewer.layers[name].visible = False
        viewer.reset_view()
        shot(viewer, args.out / "quality.png")
        viewer.close()


if __name__ == "__main__":
    main()
