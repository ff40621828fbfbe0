"""The Python API for notebooks and scripts: train, resume, load, predict, evaluate and export.

Each call wraps the same machinery as the command line (``microsr train / predict / evaluate /
export``) and returns an object that shows itself as a table and thumbnails in Jupyter
(``_repr_html_``) and as one line in a terminal. It sits on top of every other layer, beside the
CLI; the napari plugin uses it too. All but :func:`export` are also ``microsr.<name>``
(``microsr.export`` is the package that writes bioimage.io packages).

Example::

    import microsr
    run = microsr.train("data/lr", "data/hr", "run", model="dfcan", steps=500)
    run                                    # table of validation metrics + loss curves
    sr = microsr.predict(run, "new/cell.tif")
    microsr.evaluate(sr, "new/cell_hr.tif", lr="new/cell.tif")
    package = microsr.api.export(run, "cell-sr.zip")   # a bioimage.io model package
    model = microsr.load_model(package)            # load once, predict many images
    microsr.predict(model, "new/other.tif")
"""

from microsr.api.prediction import Model, Prediction, load_model, predict
from microsr.api.quality import Evaluation, evaluate
from microsr.api.sharing import ExportedPackage, export
from microsr.api.training import TrainingRun, resume, train

__all__ = [
    "Evaluation",
    "ExportedPackage",
    "Model",
    "Prediction",
    "TrainingRun",
    "evaluate",
    "export",
    "load_model",
    "predict",
    "resume",
    "train",
]
