"""Qt pieces shared by the widgets: their base class and a combo box of the viewer's image layers."""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QWidget

from microsr.napari._layers import notify_error

NONE = "(none)"


class LayerChoice(QComboBox):
    """The viewer's image layers by name, kept up to date; ``optional`` adds a "(none)" entry."""

    def __init__(self, viewer, *, optional: bool = False):
        super().__init__()
        self.viewer, self.optional = viewer, optional
        viewer.layers.events.inserted.connect(self.refresh)
        viewer.layers.events.removed.connect(self.refresh)
        viewer.layers.events.moved.connect(self.refresh)
        self.refresh()

    def refresh(self, *_event) -> None:
        from napari.layers import Image

        current = self.currentText()
        names = [layer.name for layer in self.viewer.layers if isinstance(layer, Image)]
        self.clear()
        self.addItems(([NONE] if self.optional else []) + names)
        if current in names:
            self.setCurrentText(current)

    def select(self, name: str) -> None:
        self.setCurrentText(name)

    def current(self):
        """The chosen layer, or ``None`` ("(none)", or no image layer open)."""
        name = self.currentText()
        return self.viewer.layers[name] if name and name != NONE and name in self.viewer.layers else None


def side_by_side(*widgets: QWidget) -> QHBoxLayout:
    """A horizontal row of ``widgets``."""
    row = QHBoxLayout()
    for w in widgets:
        row.addWidget(w)
    return row


class JobWidget(QWidget):
    """Base of the dock widgets: the viewer, the running :class:`~microsr.napari._worker.Job` (or
    ``None``), a status line, and ``done``, emitted with the ``Outcome`` of every run."""

    done = Signal(object)

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.job = None
        self.status = QLabel("")
        self.status.setWordWrap(True)

    def _form(self, *rows) -> QFormLayout:
        """Lay the widget out as a form: each row a ``(label, widget)`` pair, a widget, or a tuple
        of widgets side by side; the status line comes last."""
        form = QFormLayout(self)
        for row in (*rows, self.status):
            if isinstance(row, tuple) and isinstance(row[0], str):
                form.addRow(*row)
            elif isinstance(row, tuple):
                form.addRow(side_by_side(*row))
            else:
                form.addRow(row)
        return form

    def _fail(self, message: str) -> None:
        """Show a one-line problem in the status line and as a napari notification."""
        self.status.setText(message)
        notify_error(message)
