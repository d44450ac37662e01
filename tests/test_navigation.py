"""The README's contents and the notebooks' previous/next links are generated, and not stale."""
import base64
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import navigation  # noqa: E402

README = "# Demo\n\n## Notebooks\n\n<!-- toc -->\nold line\n<!-- /toc -->\n\nEnd.\n"


def make_project(tmp_path, titles):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "README.md").write_text(README, encoding="utf-8")
    for k, name in enumerate(titles, start=1):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {k:02d}. {name}\n\nText."),
                    nbformat.v4.new_code_cell("1 + 1")]
        nbformat.write(nb, tmp_path / "notebooks" / f"{k:02d}-{name.lower()}.ipynb")
    return tmp_path


def test_repository_navigation_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "navigation.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_update_writes_contents_and_links(tmp_path):
    root = make_project(tmp_path, ["Alpha", "Beta", "Gamma"])
    assert len(navigation.update(root)) == 4  # three notebooks and the README
    readme = (root / "README.md").read_text()
    assert "- [01. Alpha](notebooks/01-alpha.ipynb)\n- [02. Beta](notebooks/02-beta.ipynb)\n" in readme
    assert "old line" not in readme and readme.endswith("End.\n")
    middle = nbformat.read(root / "notebooks" / "02-beta.ipynb", as_version=4)
    first, last = middle.cells[0].source, middle.cells[-1].source
    assert first == last
    assert "< [01. Alpha](01-alpha.ipynb)" in first and "[03. Gamma](03-gamma.ipynb) >" in first
    assert [c.source for c in middle.cells[1:-1]] == ["# 02. Beta\n\nText.", "1 + 1"]
    edge = nbformat.read(root / "notebooks" / "01-alpha.ipynb", as_version=4).cells[0].source
    assert "<" not in edge.replace("<!--", "") and "[02. Beta](02-beta.ipynb) >" in edge
    assert navigation.update(root, check=True) == []  # idempotent


def test_check_reports_a_renamed_title(tmp_path):
    root = make_project(tmp_path, ["Alpha", "Beta"])
    navigation.update(root)
    path = root / "notebooks" / "02-beta.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "# 02. Beta, renamed"
    nbformat.write(nb, path)
    stale = navigation.update(root, check=True)
    assert {p.name for p in stale} == {"01-alpha.ipynb", "README.md"}
    assert navigation.update(root, check=True) == stale  # --check wrote nothing


def test_a_notebook_without_a_title_is_an_error(tmp_path):
    root = make_project(tmp_path, ["Alpha"])
    path = root / "notebooks" / "01-alpha.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "No heading here"
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="01-alpha.ipynb: no '# Title' heading"):
        navigation.update(root)


def test_readme_figures_are_copied_from_tagged_cells(tmp_path):
    root = make_project(tmp_path, ["Alpha"])
    path = root / "notebooks" / "01-alpha.ipynb"
    nb = nbformat.read(path, as_version=4)
    png = b"\x89PNG fake bytes"
    nb.cells[1].metadata["tags"] = ["readme-figure"]
    nb.cells[1].outputs = [nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"})]
    nbformat.write(nb, path)
    assert root / "docs" / "images" / "01-alpha.png" in navigation.update(root)
    assert (root / "docs" / "images" / "01-alpha.png").read_bytes() == png
    assert navigation.update(root, check=True) == []


def test_a_readme_figure_cell_without_a_figure_is_an_error(tmp_path):
    root = make_project(tmp_path, ["Alpha"])
    path = root / "notebooks" / "01-alpha.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = ["readme-figure"]
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="01-alpha.ipynb: a 'readme-figure' cell must show one"):
        navigation.update(root)
