"""environment.yml (conda) and pyproject.toml (pip) must list the same packages."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("test", "notebooks")  # the extras that environment.yml installs
CONDA_NAMES = {}  # PyPI name -> conda-forge name, where they differ (e.g. "torch": "pytorch")
CONDA_ONLY = {"python", "pip"}  # the interpreter and the installer of the `pip:` section


def normalize(name):
    """PEP 503 name: lower case, runs of '-', '_', '.' become '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def floor(specifiers):
    """The version in a '>=' specifier, or None."""
    floors = [Version(s.version) for s in specifiers if s.operator == ">="]
    return max(floors, default=None)


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    requirements = {}
    for line in lines:
        requirement = Requirement(line)
        name = normalize(requirement.name)
        requirements[CONDA_NAMES.get(name, name)] = floor(requirement.specifier)
    return requirements


def conda_environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_requirements():
    """{name: floor} for the conda packages, less python and pip."""
    requirements = {}
    for entry in conda_environment()["dependencies"]:
        if isinstance(entry, dict):  # the `pip:` section
            continue
        name, spec = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", entry).groups()
        if normalize(name) in CONDA_ONLY:
            continue
        version = re.fullmatch(r"(>=\s*([\w.]+))?", spec)
        assert version, f"environment.yml: cannot read {entry!r}; write 'name' or 'name>=version'"
        requirements[normalize(name)] = Version(version[2]) if version[2] else None
    return requirements


def test_same_package_names():
    pip_names, conda_names = set(pyproject_requirements()), set(conda_requirements())
    assert pip_names - conda_names == set(), "in pyproject.toml but not environment.yml"
    assert conda_names - pip_names == set(), "in environment.yml but not pyproject.toml"


@pytest.mark.parametrize("name", sorted(pyproject_requirements()))
def test_same_version_floor(name):
    assert conda_requirements().get(name) == pyproject_requirements()[name]


def test_python_version_allowed_by_requires_python():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = [e for e in conda_environment()["dependencies"] if str(e).startswith("python=")]
    assert len(pins) == 1, "environment.yml must pin python once, e.g. python=3.11"
    allowed = Requirement(f"python{project['requires-python']}").specifier
    assert Version(pins[0].split("=")[1]) in allowed


def test_pip_section_installs_this_package_editable():
    sections = [e["pip"] for e in conda_environment()["dependencies"] if isinstance(e, dict)]
    assert sections == [["-e ."]]


# --------------------------------------------------------------------- the oldest end of the range
def constraints(path):
    """{name: specifier} of a pip constraints file."""
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            pins[normalize(requirement.name)] = str(requirement.specifier)
    return pins


def test_oldest_constraints_pin_exactly_the_floors():
    """Each `>=X` of pyproject.toml is pinned to `X.*`, and nothing else is pinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    floors = {}
    for line in lines:
        requirement = Requirement(line)
        if floor(requirement.specifier) is not None:
            floors[normalize(requirement.name)] = f"=={floor(requirement.specifier)}.*"
    assert constraints("constraints/oldest.txt") == floors


def test_ci_runs_the_oldest_and_the_newest_ends():
    workflow = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    (job,) = workflow["jobs"].values()
    matrix = job["strategy"]["matrix"]["include"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest_python = re.fullmatch(r">=\s*([\d.]+)", project["requires-python"])[1]
    ends = {(entry["python-version"], entry["constraints"]) for entry in matrix}
    assert (oldest_python, "constraints/oldest.txt") in ends
    assert any(Version(python) >= Version("3.13") and not pinned for python, pinned in ends)
    assert any("make test" in step.get("run", "") and "CONSTRAINTS=" in step["run"]
               for step in job["steps"])
