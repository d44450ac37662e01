"""Re-execute notebooks top to bottom and save them in place, deterministically.

Usage: python tools/run_notebooks.py [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)

Each notebook runs in a fresh kernel of this Python (the one running the script), in
the notebook's folder (notebooks/), as under nbval. Outputs are saved with execution
counts 1..n, no timing metadata and version-free notebook metadata, so a re-run on
another machine changes only what the code prints. A cell that raises stops the run
with a non-zero exit, unless the cell carries the `raises-exception` tag.

The nbgrader cell metadata (schema version 3) is derived here from the cell tags, never
kept by hand: in an exercise (the cells from a `### Exercise N.k: ...` heading to the next
heading of level 1-3), a code cell tagged `solution` becomes an autograded answer (a solution
cell, not graded), a code cell tagged `self-check` an autograder test (graded, locked,
POINTS points), and a markdown cell tagged `answer` a manually graded answer (graded and a
solution, POINTS points). Their grade ids name the exercise: `ex-2-1-solution`,
`ex-2-1-check`, `ex-2-1-answer` (then `-2`, `-3`, ... for a second, third cell of the same
kind). Every other cell has no nbgrader metadata.
"""

import re
import sys
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT = 120  # seconds per cell
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
TIMING_KEYS = ("execution", "ExecuteTime")  # per-cell metadata that changes on every run
EXERCISE = re.compile(r"^### Exercise (\d+)\.(\d+)\b")  # the heading that opens an exercise
SECTION = re.compile(r"^#{1,3} ")  # a heading that closes it
POINTS = 1  # per self-check and per written answer
# tag -> (cell type, grade id suffix, nbgrader metadata), nbgrader's schema version 3
ROLES = {
    "solution": ("code", "solution", {"grade": False, "solution": True, "locked": False}),
    "self-check": ("code", "check", {"grade": True, "solution": False, "locked": True,
                                     "points": POINTS}),
    "answer": ("markdown", "answer", {"grade": True, "solution": True, "locked": False,
                                      "points": POINTS}),
}


FENCE = re.compile(r"^\s{0,3}(```|~~~)")  # opens or closes a fenced code block in markdown


def headings(markdown):
    """The heading lines of a markdown source, less the lines of its fenced code blocks."""
    found, fenced = [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.append(line)
    return found


class TagError(ValueError):
    """A classroom tag that cannot be turned into nbgrader metadata."""


class ThisPython(KernelSpecManager):
    """Kernel specs that all start ipykernel in the interpreter running this script."""

    def get_kernel_spec(self, kernel_name):
        # Minimal tracebacks: an error cell stores its type and message, not this machine's paths.
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                "--InteractiveShell.xmode=Minimal"]
        display_name = METADATA["kernelspec"]["display_name"]
        return KernelSpec(argv=argv, language="python", display_name=display_name)


def fresh_id(index, taken):
    """A deterministic cell id, 'cell-07', unless that one is taken."""
    candidate, suffix = f"cell-{index:02d}", 1
    while candidate in taken:
        candidate, suffix = f"cell-{index:02d}-{suffix}", suffix + 1
    return candidate


def nbgrader_metadata(nb, name="notebook"):
    """The nbgrader cell metadata derived from the tags: a list, one dict or None per cell.

    Raises TagError for a classroom tag outside an exercise, on the wrong kind of cell, or
    together with another classroom tag.

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("### Exercise 2.1: Fix it"),
    ...     nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]}),
    ...     nbformat.v4.new_code_cell("assert x == 1", metadata={"tags": ["self-check"]})])
    >>> [meta and meta["grade_id"] for meta in nbgrader_metadata(nb)]
    [None, 'ex-2-1-solution', 'ex-2-1-check']
    """
    derived, exercise, seen = [], None, {}
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{name}, cell {index} (id {cell.get('id', '?')})"
        if cell.cell_type == "markdown" and "answer" not in cell.metadata.get("tags", []):
            for line in headings(cell.source):
                match = EXERCISE.match(line)
                if match:
                    exercise = "ex-{}-{}".format(*match.groups())
                elif SECTION.match(line):
                    exercise = None
        roles = [tag for tag in cell.metadata.get("tags", []) if tag in ROLES]
        if not roles:
            derived.append(None)
            continue
        if len(roles) > 1:
            raise TagError(f"{where}: tagged both {roles[0]!r} and {roles[1]!r}; "
                           "a cell has one classroom role")
        cell_type, suffix, meta = ROLES[roles[0]]
        if cell.cell_type != cell_type:
            raise TagError(f"{where}: the {roles[0]!r} tag belongs on a {cell_type} cell, "
                           f"not a {cell.cell_type} cell")
        if exercise is None:
            raise TagError(f"{where}: tagged {roles[0]!r} outside an exercise; put it under "
                           "a '### Exercise N.k: Title' heading")
        grade_id = f"{exercise}-{suffix}"
        seen[grade_id] = seen.get(grade_id, 0) + 1
        if seen[grade_id] > 1:
            grade_id += f"-{seen[grade_id]}"
        derived.append({"schema_version": 3, "grade_id": grade_id, **meta})
    return derived


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalize(nb, name="notebook"):
    """Fix the metadata, cell ids, execution counts, stream outputs, widget views and nbgrader
    metadata in place; return nb."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict(METADATA)
    taken = {cell.get("id") for cell in nb.cells}
    count = 0
    for index, (cell, grading) in enumerate(zip(nb.cells, nbgrader_metadata(nb, name)), start=1):
        if not cell.get("id"):
            cell.id = fresh_id(index, taken)
            taken.add(cell.id)
        for key in TIMING_KEYS:
            cell.metadata.pop(key, None)
        if grading is None:
            cell.metadata.pop("nbgrader", None)
        else:
            cell.metadata["nbgrader"] = nbformat.from_dict(grading)
        if cell.cell_type != "code":
            continue
        executed = bool(cell.source.strip())
        count += executed
        cell.execution_count = count if executed else None
        cell.outputs = merged_streams(cell.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = cell.execution_count
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/plain" in data:
                # a live widget's view names a model id that is new on every run and whose
                # model dies with the kernel: keep only its text, which says what it is, and
                # a mark that a widget was shown here
                del data[WIDGET_VIEW]
                output.setdefault("metadata", {})["d2lmini"] = {"widget": True}
    nb.metadata.pop("widgets", None)
    return nb


def merged_streams(outputs):
    """Join consecutive prints to the same stream into one output: how the kernel happened to
    split them into messages depends on timing, and would change the file from run to run."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def execute(nb, folder, allow_errors=False):
    """Run `nb` top to bottom in a fresh kernel of this Python, in `folder`; return it.

    With `allow_errors` every error stays in the outputs; otherwise the first error in a cell
    without the `raises-exception` tag raises CellExecutionError.
    """
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())
    client = NotebookClient(nb, km=km, timeout=TIMEOUT, kernel_name="python3",
                            allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}})
    try:
        client.execute(cleanup_kc=True)  # closes the channels of a km we own
    finally:
        if km.has_kernel:  # we made km, so the client leaves it to us
            km.shutdown_kernel(now=True)
    return nb


def run(path):
    """Execute one notebook file and write it back."""
    nb = normalize(nbformat.read(path, as_version=4), path.name)  # ids before running
    execute(nb, path.resolve().parent)
    nbformat.write(normalize(nb, path.name), path)  # nbformat writes indent 1 and a trailing newline


def main(argv):
    paths = [Path(arg) for arg in argv] or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
    for path in paths:
        print(f"running {path} ...", flush=True)
        try:
            run(path)
        except (CellExecutionError, TagError) as error:
            print(f"FAILED {path}:\n{error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
