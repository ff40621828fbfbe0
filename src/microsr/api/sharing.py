"""Sharing from notebooks and scripts: :func:`export` a training run as a bioimage.io package.

The work is :func:`microsr.export.package.export_package` (what ``microsr export`` runs); this
module gives it keyword arguments and a result that displays itself in Jupyter. Needs
``pip install "microsr[export]"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microsr.api._display import PathLike, table
from microsr.errors import InputError


@dataclass
class ExportedPackage:
    """A written bioimage.io package: ``path`` (a .zip that :func:`microsr.predict` and
    ``microsr predict --model`` load), the largest difference of each weight format from microsr's
    own prediction (relative to the output's range), the halo and the smallest input edge it accepts."""

    path: Path
    errors: dict[str, float]
    seconds: float
    halo: int
    min_size: int

    def test(self) -> dict[str, Any]:
        """Run bioimage.io's own test (``bioimageio test``) on the package, in this process.

        Returns ``{"status": "passed" | "failed", "checks": [(name, status), ...]}``.
        """
        from bioimageio.core import test_model

        summary = test_model(self.path)
        return {"status": summary.status, "checks": [(d.name, d.status) for d in summary.details]}

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        kib = self.path.stat().st_size / 1024 if self.path.is_file() else float("nan")
        return f"ExportedPackage({str(self.path)!r}, {kib:.0f} KiB, formats {sorted(self.errors)})"

    def _repr_html_(self) -> str:
        info = {
            "package": str(self.path),
            "size (KiB)": round(self.path.stat().st_size / 1024) if self.path.is_file() else "",
            "halo (px)": self.halo,
            "smallest input (px)": self.min_size,
            "export (s)": round(self.seconds, 1),
        }
        rows = [{"weight format": f, "max difference from microsr": e} for f, e in self.errors.items()]
        return table([info]) + table(
            rows, "each weight format against microsr's prediction of the test image"
        )


def export(
    run: PathLike,
    out: PathLike,
    *,
    weights: str = "best",
    formats: tuple[str, ...] | list[str] | None = None,
    name: str | None = None,
    description: str | None = None,
    authors: list[str] | None = None,
    license: str = "BSD-3-Clause",
    test_image: PathLike | None = None,
    normalization: str = "image",
) -> ExportedPackage:
    """Write training run ``run`` as the bioimage.io package ``out`` (a ``.zip`` in an existing folder).

    The options are those of ``microsr export`` (``docs/sharing.md``); ``formats`` defaults to
    all of pytorch_state_dict, torchscript and onnx; ``normalization="training"`` writes the
    run's training intensity range into ``rdf.yaml`` (``scale_linear``) instead of percentiles.
    """
    try:
        from microsr.export.package import ExportOptions, export_package
        from microsr.export.weights import FORMATS
    except ImportError as exc:
        raise InputError(None, f"export needs pip install 'microsr[export]' ({exc})") from None
    opts = ExportOptions(
        weights=weights,
        formats=tuple(formats) if formats is not None else FORMATS,
        name=name,
        description=description,
        authors=list(authors) if authors else ["microsr user"],
        license=license,
        test_image=None if test_image is None else Path(test_image),
        normalization=normalization,
    )
    result = export_package(Path(run), Path(out), opts)
    return ExportedPackage(result.path, result.errors, result.seconds, result.halo, result.min_size)
