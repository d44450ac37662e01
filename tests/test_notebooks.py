"""The notebooks themselves: run in order, on the python3 kernel, on d2lmini, with no stray errors.

nbval (in `make test`) checks that every stored output is still what the code prints; these
tests check how the notebooks are kept, so that the stored outputs are worth comparing.
"""
import re
import types
from pathlib import Path

import nbformat
import pytest

import d2lmini

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
PUBLIC = sorted({name for module in (d2lmini, d2lmini.autograd, d2lmini.nn, d2lmini.init,
                                     d2lmini.plot, d2lmini.data)
                 for name in getattr(module, "__all__", ())}
                - {name for name in d2lmini.__all__  # the submodules: a `def train` is no clash
                   if isinstance(getattr(d2lmini, name), types.ModuleType)})

parametrize = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def tags(cell):
    return cell.metadata.get("tags", [])


def test_the_lessons_are_numbered_from_01_without_gaps():
    assert NOTEBOOKS, "no lessons in notebooks/"
    numbers = [p.name[:2] for p in NOTEBOOKS]
    assert numbers == [f"{n:02d}" for n in range(1, len(NOTEBOOKS) + 1)], numbers
    assert len(NOTEBOOKS) <= 8, "the chapter has eight lessons, 01-08"


@parametrize
def test_executed_top_to_bottom_on_the_python3_kernel(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    counts = [c.execution_count for c in code_cells(path) if c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), "re-run it with `make notebooks`"


@parametrize
def test_errors_only_where_tagged_and_nothing_on_stderr(path):
    for cell in code_cells(path):
        kinds = {o.output_type for o in cell.outputs}
        assert ("error" in kinds) == ("raises-exception" in tags(cell)), cell.source[:80]
        stderr = [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"warnings or errors printed by: {cell.source[:80]!r}: {stderr}"


@parametrize
def test_imports_d2lmini_and_does_not_redefine_it(path):
    source = "\n".join(c.source for c in code_cells(path))
    assert re.search(r"^(import d2lmini|from d2lmini import)", source, re.M)
    assert "sys.path" not in source
    redefined = [name for name in PUBLIC
                 if re.search(rf"^\s*(def|class) {name}\b", source, re.M)]
    assert not redefined, f"defines what d2lmini holds: {redefined}"


@parametrize
def test_goals_first_summary_and_exercises_last(path):
    nb = nbformat.read(path, as_version=4)
    text = [c.source for c in nb.cells if c.cell_type == "markdown"]
    title = next(t for t in text if t.startswith("# "))
    assert all(goal in title for goal in ("What you'll do", "What you'll learn", "What you'll need"))
    headings = [line for t in text for line in t.splitlines() if line.startswith("## ")]
    assert headings[-2:] == ["## Summary", "## Exercises"]


@parametrize
def test_ignored_outputs_say_why(path):
    for cell in code_cells(path):
        lines = cell.source.splitlines()
        if lines and lines[0].strip() == "# NBVAL_IGNORE_OUTPUT":
            assert len(lines) > 1 and lines[1].startswith("# "), "say why on the next line"


@parametrize
def test_prints_are_stored_as_one_output_per_stream(path):
    """run_notebooks.py joins what the kernel split by timing, so re-runs store the same file."""
    for cell in code_cells(path):
        names = [o.get("name") if o.output_type == "stream" else None for o in cell.outputs]
        assert not any(a is not None and a == b for a, b in zip(names, names[1:])), cell.source[:80]


@parametrize
def test_no_widget_view_is_stored(path):
    """A widget's view names a model id that changes on every run and a model that died with
    the kernel; run_notebooks.py keeps only the widget's text, so re-runs store the same file."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    for cell in code_cells(path):
        for output in cell.outputs:
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {}), \
                cell.source[:80]


def test_the_widget_lessons_mark_where_a_widget_was_shown():
    """The mark run_notebooks.py leaves in place of a widget's view (the browser test counts
    the widgets a lesson must show by it): one per cell that calls a d2lmini.widgets function
    returning a live widget."""
    for path in NOTEBOOKS:
        for cell in code_cells(path):
            marked = [o for o in cell.outputs
                      if o.get("metadata", {}).get("d2lmini", {}).get("widget")]
            live = any(re.match(r"widgets\.\w+\(", line.strip()) for line in
                       cell.source.splitlines()) and "small_multiples" not in cell.source
            assert len(marked) == live, (path.name, cell.source[:120])
            assert all(o.data["text/plain"] for o in marked)
