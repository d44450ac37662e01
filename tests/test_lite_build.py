"""tools/lite.py's pieces that need no download: what the notebooks import, which Pyodide
packages that takes, the checksums of the carried files, the notebooks' browser copies, the
widgets' wheels; and, where a site is built, what it serves."""

import hashlib
import importlib.util
import json
import re
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


def test_the_site_needs_neither_scikit_learn_nor_scipy():
    """The digits ship inside d2lmini: the browser loads no scikit-learn (nor SciPy) for them."""
    notebooks = [(path, nbformat.read(path, as_version=4))
                 for path in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    modules = lite.needed_modules(notebooks)
    assert {"numpy", "matplotlib", "d2lmini"} <= modules.keys()
    assert not {"sklearn", "scipy"} & modules.keys(), modules


def test_the_wheel_ships_the_digits(tmp_path):
    """What `pip install d2lmini` (and the browser's site) gets holds the data file of
    data.digits. d2lmini_wheel builds from a copy of the sources, so that nothing left in a
    build/ folder can stand in for it."""
    from d2lmini import data
    wheel = lite.d2lmini_wheel(tmp_path / "wheel")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("d2lmini/digits.csv.gz") == data._digits_file().read_bytes()


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


WIDGET_OUTPUT = nbformat.v4.new_output(
    "execute_result", data={"text/plain": "VBox(...)", lite.WIDGET_VIEW: {
        "version_major": 2, "version_minor": 0, "model_id": "0123abcd"}}, execution_count=2)


def test_a_notebook_with_widgets_installs_ipywidgets_from_the_site():
    """ipywidgets is installed where the notebook imports it or uses a d2lmini module that
    imports it, and only there; its wheels are the site's, so the build needs no lock entry."""
    first = lambda nb: next(c for c in lite.lite_copy(nb).cells if c.cell_type == "code").source
    direct = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import ipywidgets")])
    assert "%pip install -q d2lmini ipywidgets\n" in first(direct)
    plain = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy")])
    assert "%pip install -q d2lmini\n" in first(plain)
    assert lite.packages_for({"ipywidgets": ["01"]}, LOCK) == lite.packages_for({}, LOCK)
    assert "ipywidgets" in lite.used_modules("from d2lmini import nn\nimport ipywidgets as w")


def test_a_d2lmini_module_importing_ipywidgets_brings_it(monkeypatch):
    monkeypatch.setattr(lite, "d2lmini_imports", lambda: {"widgets": {"ipywidgets", "numpy"},
                                                          "nn": {"numpy"}})
    assert "ipywidgets" in lite.used_modules("from d2lmini import plot, widgets")
    assert "ipywidgets" in lite.used_modules("import d2lmini.widgets\nd2lmini.widgets.x()")
    assert "ipywidgets" not in lite.used_modules("from d2lmini import nn")


def test_stored_widget_views_are_dropped_from_the_site_copy():
    """Their models died with the kernel that ran the notebook: on opening, JupyterLab would
    show the widget's text form (or "model not found") where each was."""
    cell = nbformat.v4.new_code_cell("box", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="drawn\n"), WIDGET_OUTPUT])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    copy = lite.lite_copy(nb)
    assert [o.output_type for o in copy.cells[-1].outputs] == ["stream"]
    assert "widgets" not in copy.metadata
    assert len(nb.cells[0].outputs) == 2  # the lesson keeps its outputs


def test_widget_wheels_are_one_release():
    """ipywidgets' own requirements (~=) accept the jupyterlab_widgets and widgetsnbextension
    that the site serves, and the lite extra pins the jupyterlab_widgets whose labextension
    is copied into the site."""
    import tomllib
    from packaging.requirements import Requirement

    pins = dict(r.split("==") for r in lite.PIPLITE_WHEELS)
    major_minor = lambda version: version.rsplit(".", 1)[0]
    assert major_minor(pins["ipywidgets"]) == "8.1"
    assert major_minor(pins["jupyterlab_widgets"]) == "3.0"
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["lite"]
    assert f"{lite.WIDGETS_PYTHON}=={pins[lite.WIDGETS_PYTHON]}" in extra
    for requirement, (name, _) in lite.PIPLITE_WHEELS.items():
        assert name.startswith(requirement.replace("==", "-") + "-")
    wheel = lite.CACHE / lite.PIPLITE_WHEELS[f"ipywidgets=={pins['ipywidgets']}"][0]
    if not wheel.exists():
        pytest.skip(f"{wheel} not downloaded yet (make lite)")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [Requirement(line.split(":", 1)[1]) for line in
                    archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:") and "extra ==" not in line]
    for requirement in requires:
        if requirement.name in pins:
            assert pins[requirement.name] in requirement.specifier, requirement


CDN = re.compile(r"https?://(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)")


@pytest.mark.parametrize("site", [lite.OUT, lite.BUILD / "lite-tests"], ids=lambda p: p.name)
def test_the_built_site_serves_the_widgets_itself(site):
    """In a site built by `make lite` (or the browser tests' scratch site): the widgets'
    labextension is there and names no CDN, each wheel the kernel installs is served with the
    pinned sha256 (and is that file), and the PyPI fallback stays off."""
    if not (site / "jupyter-lite.json").exists():
        pytest.skip(f"{site} not built (make lite)")
    lite.check_output(site)
    index = json.loads((site / "pypi" / "all.json").read_text())
    for requirement, (file_name, sha256) in lite.PIPLITE_WHEELS.items():
        name, version = requirement.split("==")
        (release,) = index.get(name, index.get(lite.normalize(name)))["releases"][version]
        assert (release["filename"], release["digests"]["sha256"]) == (file_name, sha256)
        assert lite.sha256_of(site / "pypi" / file_name) == sha256
    extension = site / lite.WIDGETS_EXTENSION
    assert json.loads((extension / "package.json").read_text())["name"] \
        == "@jupyter-widgets/jupyterlab-manager"
    named = [path.name for path in extension.rglob("*.js")
             if CDN.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert named == [], f"{extension}: CDN URLs in {named}"
