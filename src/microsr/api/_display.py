"""Shared by the API modules: the path type they accept and the HTML of their Jupyter displays."""

from __future__ import annotations

import html
import os
from typing import Any

import numpy as np

PathLike = str | os.PathLike[str]


def table(rows: list[dict[str, Any]], caption: str = "") -> str:
    """An HTML table of ``rows`` (columns of the first row; floats with 4 significant digits)."""
    if not rows:
        return ""
    cols = list(rows[0])

    def cell(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def thumbnails(images: dict[str, np.ndarray]) -> str:
    from microsr.evaluation.figures import display_range, gray_thumbnail

    cells = []
    for name, img in images.items():
        plane = np.asarray(img, dtype=np.float64).reshape(-1, *img.shape[-2:])[0]
        uri = gray_thumbnail(plane, display_range(plane))
        cells.append(
            f'<figure style="display:inline-block;margin:4px"><img src="{uri}" width="256" '
            f'style="image-rendering:pixelated"><figcaption>{html.escape(name)} {img.shape}</figcaption></figure>'
        )
    return "<div>" + "".join(cells) + "</div>"
