"""Messages of the training engine: one unwrapped line per note, resume rules as documented."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from microsr.engine.build import changeable_on_resume
from microsr.engine.progress import ProgressBar

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_a_note_is_not_hard_wrapped_on_a_narrow_terminal():
    bar = ProgressBar(10, 0, enabled=True)
    bar.console = Console(file=io.StringIO(), width=40, force_terminal=False)
    text = "interrupted after step 3; resume state saved: continue with `microsr train --out runs/a-long-name --resume`"
    bar.note(text)
    assert bar.console.file.getvalue() == text + "\n"  # the terminal folds it; the command stays copyable


def test_resume_error_lists_the_fields_docs_training_md_lists():
    sentence = re.search(r"\* Only (.+?) may change on resume", DOCS.read_text(), re.S).group(1)
    documented = set(re.findall(r"`([a-z_]+)`", sentence))
    assert documented == {name.removeprefix("data.") for name in changeable_on_resume()}
