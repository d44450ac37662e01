"""Write the table of contents, the previous/next links and the README's figures; never by hand.

Usage: python tools/navigation.py [--check] [ROOT]

- README.md: the lines between ``<!-- toc -->`` and ``<!-- /toc -->`` become one line per
  notebook, with its title (the first ``# `` heading of the notebook).
- Every notebook gets a navigation cell first and last (marked ``<!-- navigation -->``) linking
  the previous notebook, the contents and the next notebook.
- The figure of each code cell tagged ``readme-figure`` is copied to
  ``docs/images/NN-name.png`` (NN-name: the notebook's), for the README to show.

With ``--check`` nothing is written; the exit status is 1 if anything is stale (the tests run this).
After the PythonDataScienceHandbook's tools/add_navigation.py and tools/generate_contents.py.
"""
import base64
import re
import sys
from pathlib import Path

import nbformat

MARK = "<!-- navigation -->"
TOC = re.compile(r"(<!-- toc -->\n)(.*?)(<!-- /toc -->)", re.S)


def notebooks(root):
    """The numbered notebooks, in order."""
    return sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def title(nb, path):
    """The text of the notebook's first level-1 heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and MARK not in cell.source:
            match = re.search(r"^# (.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    raise ValueError(f"{path.name}: no '# Title' heading in its first markdown cells")


def nav_line(titles, names, k):
    """'< previous | Contents | next >' for notebook k."""
    parts = []
    if k > 0:
        parts.append(f"< [{titles[k - 1]}]({names[k - 1]})")
    parts.append("[Contents](../README.md#notebooks)")
    if k + 1 < len(names):
        parts.append(f"[{titles[k + 1]}]({names[k + 1]}) >")
    return f"{MARK}\n" + " | ".join(parts)


def with_navigation(nb, line):
    """Return True if the notebook's first and last cells were (re)set to ``line``."""
    cells = [c for c in nb.cells if not (c.cell_type == "markdown" and c.source.startswith(MARK))]
    top = nbformat.v4.new_markdown_cell(line, id="navigation-top")
    bottom = nbformat.v4.new_markdown_cell(line, id="navigation-bottom")
    new = [top, *cells, bottom]
    changed = [(c.cell_type, c.source) for c in new] != [(c.cell_type, c.source) for c in nb.cells]
    nb.cells = new
    return changed


def contents(titles, names):
    return "".join(f"- [{t}](notebooks/{n})\n" for t, n in zip(titles, names))


def readme_figures(nb, path):
    """{file name: PNG bytes} of the cells tagged 'readme-figure'."""
    figures = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "readme-figure" in cell.metadata.get("tags", []):
            pngs = [o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
            if len(pngs) != 1:
                raise ValueError(f"{path.name}: a 'readme-figure' cell must show one figure, "
                                 f"it shows {len(pngs)}")
            figures[f"{path.stem}.png"] = base64.b64decode(pngs[0])
    if len(figures) < sum("readme-figure" in c.metadata.get("tags", []) for c in nb.cells):
        raise ValueError(f"{path.name}: at most one cell may be tagged 'readme-figure'")
    return figures


def update(root, check=False):
    """Bring the README's contents and every notebook's links up to date; return the stale files."""
    root = Path(root)
    paths = notebooks(root)
    books = [nbformat.read(p, as_version=4) for p in paths]
    titles = [title(nb, p) for nb, p in zip(books, paths)]
    names = [p.name for p in paths]
    stale = []
    for k, (nb, path) in enumerate(zip(books, paths)):
        if with_navigation(nb, nav_line(titles, names, k)):
            stale.append(path)
            if not check:
                nbformat.write(nb, path)
    images = root / "docs" / "images"
    for nb, path in zip(books, paths):
        for name, png in readme_figures(nb, path).items():
            target = images / name
            if not target.exists() or target.read_bytes() != png:
                stale.append(target)
                if not check:
                    images.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(png)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    if not TOC.search(text):
        raise ValueError("README.md has no '<!-- toc -->' ... '<!-- /toc -->' block")
    new_text = TOC.sub(lambda m: m.group(1) + contents(titles, names) + m.group(3), text)
    if new_text != text:
        stale.append(readme)
        if not check:
            readme.write_text(new_text, encoding="utf-8")
    return stale


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    stale = update(root, check=check)
    for path in stale:
        print(f"{'stale' if check else 'updated'}: {path.relative_to(root)}")
    if check and stale:
        print("run `make navigation` (python tools/navigation.py) and commit the result")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
