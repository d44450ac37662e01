"""The docstrings' pointers to the lessons are true.

A docstring in d2lmini/ may say where a learner meets the function, class or module: "Taught in
notebook 02", "Used in notebooks 01-04", "Taught in notebooks 02 and 04; used in 03 too". Each
notebook so named must exist and its code must use the thing: the function's or class's name as
a word (`corr2d(`, `nn.Conv2D(`), a module's name before an attribute (`autograd.record()`) or a name it exports
(`d2lmini.pool2d(` for pool.py).
"""

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "d2lmini"
NOTEBOOKS = {path.name[:2]: path for path in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")}
POINTER = re.compile(r"\b(?:taught|used) in notebooks?\s+(\d\d(?:\s*(?:-|,|and)\s*\d\d)*)",
                     re.IGNORECASE)


def numbers(text):
    """'01-04' -> ['01', '02', '03', '04']; '02 and 04' -> ['02', '04']; '02, 03' -> ..."""
    found = []
    for part in re.split(r"\s*(?:,|and)\s*", text):
        first, _, last = part.partition("-")
        found += [f"{n:02d}" for n in range(int(first), int(last or first) + 1)]
    return found


def pointers():
    """[(where, kind, name, [notebook numbers])] for every pointer in d2lmini's docstrings."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = [(tree, "module", path.stem)]
        nodes += [(node, "name", node.name) for node in ast.walk(tree)
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
        for node, kind, name in nodes:
            for match in POINTER.finditer(ast.get_docstring(node) or ""):
                found.append((f"{path.name}: {name}", kind, name, numbers(match.group(1))))
    return found


def code(number):
    nb = nbformat.read(NOTEBOOKS[number], as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


def uses(source, kind, name):
    if kind == "module":  # the module by name, or one of the names it exports
        exported = getattr(importlib.import_module(f"d2lmini.{name}"), "__all__", [])
        return (re.search(rf"\b{name}\.\w|^\s*from d2lmini\.{name} import", source, re.M)
                or any(re.search(rf"\b{item}\b", source) for item in exported))
    return re.search(rf"\b{name}\b", source)


def test_numbers():
    assert numbers("01-04") == ["01", "02", "03", "04"]
    assert numbers("02 and 04") == ["02", "04"]
    assert numbers("02, 03 and 05-06") == ["02", "03", "05", "06"]


def test_pointers_are_found():
    assert len(pointers()) >= 10  # the package's docstrings point to the lessons


@pytest.mark.parametrize("where, kind, name, named", pointers(), ids=[p[0] for p in pointers()])
def test_pointer_names_notebooks_that_use_it(where, kind, name, named):
    missing = [number for number in named if number not in NOTEBOOKS]
    assert not missing, f"{where}: points to notebooks {missing}, which do not exist"
    unused = [number for number in named if not uses(code(number), kind, name)]
    assert not unused, f"{where}: the code of notebooks {unused} does not use {name}"
