"""Write the student copies of the notebooks: solutions stubbed, model answers removed.

Usage: python tools/student.py [--out DIR] [NOTEBOOK.ipynb ...]
       (default: every notebooks/*.ipynb, written to build/student/)

Each region from a `### BEGIN SOLUTION` line to its `### END SOLUTION` line becomes
nbgrader's stub, indented like the BEGIN line (as nbgrader's ClearSolutions does):

    # YOUR CODE HERE                 (in a markdown cell: YOUR ANSWER HERE)
    raise NotImplementedError()

A markdown cell tagged `answer` (a model answer to a question answered in words) becomes,
whole, nbgrader's text stub `YOUR ANSWER HERE`, as nbgrader's ClearSolutions does with a
manually graded answer cell. Code cells tagged `solution` or `self-check` lose their outputs
and execution counts and gain the `raises-exception` tag, so that a student copy runs top to
bottom under `pytest --nbval-lax` (the stub raises, and so does the self-check that follows
it). Hints stay. Everything else, outputs included, is copied as it is.

The older form, a `<details><summary>Model answer</summary>...</details>` block inside a
question cell, is still removed here, so that no model answer reaches a student copy; but
nbgrader does not know it and would release it, so tests/test_classroom.py asks for `answer`
cells instead.

The copies are a pure function of the notebooks (the same input gives the same bytes).
A BEGIN without its END, an END without a BEGIN, a nested BEGIN, a solution region in
a code cell not tagged `solution`, a `solution` cell without a region, or an `answer` tag
on a code cell is an error: nothing is written and the exit status is 1.
"""

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "build" / "student"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"  # nbgrader's markers
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]  # nbgrader's code_stub
TEXT_STUB = ["YOUR ANSWER HERE"]  # nbgrader's text_stub, for markdown cells
CLEARED_TAGS = ("solution", "self-check")  # code cells whose outputs would give answers away
SUMMARY = r"<summary>(?:(?!</summary>).)*?Model answer"  # also <summary><b>Model answer</b>
MODEL_ANSWER = re.compile(rf"[ \t]*<details>\s*{SUMMARY}.*?</summary>.*?</details>[ \t]*\n?",
                          re.DOTALL | re.IGNORECASE)


class SolutionMarkerError(ValueError):
    """A solution region that cannot be cleared safely."""


def clear_solutions(source, stub, where="cell"):
    """Replace each BEGIN/END SOLUTION region of `source` by `stub`; return (source, count).

    The stub lines take the indentation of the BEGIN line.

    >>> source = "for x in xs:\\n    ### BEGIN SOLUTION\\n    total += x\\n    ### END SOLUTION"
    >>> text, count = clear_solutions(source, CODE_STUB)
    >>> print(text)
    for x in xs:
        # YOUR CODE HERE
        raise NotImplementedError()
    >>> count
    1
    """
    lines, begin_line = [], None  # begin_line: line number of the open BEGIN, if any
    count = 0
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin_line is not None:
                raise SolutionMarkerError(f"{where}, line {number}: {BEGIN!r} inside the region "
                                          f"opened on line {begin_line}; close it with {END!r} first")
            begin_line, count = number, count + 1
            indent = line[:len(line) - len(line.lstrip())]
            lines += [indent + stub_line for stub_line in stub]
        elif marker == END:
            if begin_line is None:
                raise SolutionMarkerError(f"{where}, line {number}: {END!r} without a {BEGIN!r} "
                                          "before it")
            begin_line = None
        elif begin_line is None:
            lines.append(line)
    if begin_line is not None:
        raise SolutionMarkerError(f"{where}, line {begin_line}: {BEGIN!r} has no {END!r} after it")
    return "\n".join(lines), count


def remove_model_answers(source, where="cell"):
    """Drop the collapsed model-answer blocks from a markdown source; return (source, count)."""
    source, count = MODEL_ANSWER.subn("", source)
    if re.search(SUMMARY, source, re.DOTALL | re.IGNORECASE):
        raise SolutionMarkerError(f"{where}: a <details><summary>Model answer</summary> block "
                                  "has no closing </details>")
    if count and source.count("<details") != source.count("</details>"):
        raise SolutionMarkerError(f"{where}: unbalanced <details> tags around a model answer "
                                  "(a <details> block nested inside a model answer?)")
    return source.rstrip("\n") if count else source, count


def add_tag(cell, tag):
    """Append `tag` to the cell's tags unless it is already there."""
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def student_copy(nb, name="notebook"):
    """Return (the student copy of notebook `nb`, counts); `nb` itself is left unchanged.

    counts: {"solutions": regions stubbed, "model answers": answer cells stubbed and old-form
    blocks removed}.
    """
    nb = copy.deepcopy(nb)
    counts = {"solutions": 0, "model answers": 0}
    cells = []
    for index, cell in enumerate(nb.cells, start=1):
        where = f"{name}, cell {index} ({cell.cell_type}, id {cell.get('id', '?')})"
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and "answer" in tags:
            cell.source, stubbed = "\n".join(TEXT_STUB), 0  # the whole cell is the model answer
            counts["model answers"] += 1
        elif cell.cell_type == "markdown":
            cell.source, stubbed = clear_solutions(cell.source, TEXT_STUB, where)
            cell.source, removed = remove_model_answers(cell.source, where)
            counts["model answers"] += removed
            if removed and not cell.source.strip():
                continue  # the cell held only a model answer
        elif cell.cell_type == "code":
            if "answer" in tags:
                raise SolutionMarkerError(f"{where}: the `answer` tag is for a markdown cell "
                                          "holding a model answer; a code cell is a `solution`")
            cell.source, stubbed = clear_solutions(cell.source, CODE_STUB, where)
            if stubbed and "solution" not in tags:
                raise SolutionMarkerError(f"{where}: has a solution region but no `solution` tag, "
                                          "so its outputs would stay in the student copy")
            if "solution" in tags and not stubbed:
                raise SolutionMarkerError(f"{where}: is tagged `solution` but has no "
                                          f"{BEGIN!r} ... {END!r} region")
            if any(tag in tags for tag in CLEARED_TAGS):
                cell.outputs, cell.execution_count = [], None
                add_tag(cell, "raises-exception")
        else:
            stubbed = 0
        counts["solutions"] += stubbed
        cells.append(cell)
    nb.cells = cells
    return nb, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="instructor notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder for the copies (default: build/student)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
        return 0
    if any(path.resolve().parent == args.out.resolve() for path in paths):
        print(f"error: --out {args.out} holds the instructor notebooks; the copies would replace them",
              file=sys.stderr)
        return 1
    copies = []
    for path in paths:  # make every copy before writing any, so an error writes nothing
        try:
            copies.append((path, *student_copy(nbformat.read(path, as_version=4), path.name)))
        except SolutionMarkerError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for path, nb, counts in copies:
        target = args.out / path.name
        nbformat.write(nb, target)  # nbformat writes indent 1 and a trailing newline
        print(f"wrote {target} (solutions stubbed: {counts['solutions']}, "
              f"model answers removed: {counts['model answers']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
