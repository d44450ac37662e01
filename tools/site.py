"""Render the executed notebooks to a static site: an index and one page per notebook.

Usage: python tools/site.py [--out DIR] [NOTEBOOK.ipynb ...]
       (default: every notebooks/*.ipynb, in name order, into build/html/)

Nothing is executed: the pages show the outputs saved in the notebooks (`make notebooks`
refreshes them). Each page is nbconvert's JupyterLab page (the 'lab' template) with the
figures embedded as data URIs, and links to the previous notebook, the contents and the
next notebook at its top and bottom; these replace the notebooks' own navigation cells
(from tools/navigation.py), and a link to another notebook's .ipynb file in the text is
pointed at its page. `index.html` lists the notebooks, each under the text of its first
`# ` heading.

The pages read offline: the CSS is inlined and the figures embedded. MathJax still comes
from a CDN, but deferred, so it never holds up the page (offline, formulas show as TeX);
require.js (for widgets and JavaScript outputs) is kept only on pages with such outputs.
"""

import argparse
import html
import re
import sys
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "build" / "html"
SITE_TITLE = "d2lmini: Convolutions for Images"
NAVIGATION_MARK = "<!-- navigation -->"  # starts the cells that tools/navigation.py adds
JS_MIMETYPES = ("application/javascript", "application/vnd.jupyter.widget-view+json")

# The 'lab' page, plus navigation; MathJax deferred; require.js only where an output needs it.
PAGE_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{% from 'mathjax.html.j2' import mathjax %}
{%- block html_head_js_requirejs -%}
{%- if resources.needs_requirejs -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_requirejs -%}
{%- block extra_css -%}
<style type="text/css">{{ resources.navigation_css }}</style>
{%- endblock extra_css -%}
{%- block html_head_js_mathjax -%}
{{ mathjax(resources.mathjax_url) | replace('<script src=', '<script defer src=') }}
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
{{ resources.navigation }}
{%- endblock body_header -%}
{%- block body_footer -%}
{{ resources.navigation }}
{{ super() }}
{%- endblock body_footer -%}
"""

NAVIGATION_CSS = """
nav.d2lmini-nav { display: flex; justify-content: space-between; gap: 1em;
  max-width: 1000px; margin: 0.5em auto; padding: 0.5em 1em;
  font-family: var(--jp-ui-font-family, sans-serif); font-size: 1.1em; }
nav.d2lmini-nav a { text-decoration: none; }
"""

INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style type="text/css">
body {{ font-family: system-ui, sans-serif; line-height: 1.5;
  max-width: 46em; margin: 2em auto; padding: 0 1em; }}
ol.contents {{ list-style: none; padding-left: 0; font-size: 1.2em; }}
ol.contents li {{ margin: 0.4em 0; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>Notebooks that re-teach the section <em>Convolutions for Images</em> of
<a href="https://d2l.ai">Dive into Deep Learning</a> on NumPy and Matplotlib. Read them in order.</p>
<ol class="contents">
{items}
</ol>
</main>
</body>
</html>
"""


def without_navigation_cells(nb):
    """Drop the notebook's own previous/next cells: the page has its own links."""
    nb.cells = [cell for cell in nb.cells
                if not (cell.cell_type == "markdown" and cell.source.startswith(NAVIGATION_MARK))]
    return nb


def title_of(nb, fallback):
    """The text of the notebook's first `# ` heading, or `fallback`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def title_html(title):
    """A markdown title as HTML: escaped, with `code` spans."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(title))


def never_run(nb):
    """True if a non-empty code cell was never executed (cells that raise on purpose aside)."""
    return any(c.cell_type == "code" and c.source.strip() and c.execution_count is None
               and "raises-exception" not in c.metadata.get("tags", []) for c in nb.cells)


def needs_requirejs(nb):
    """True if an output needs require.js (widgets, JavaScript outputs)."""
    return any(mimetype in output.get("data", {})
               for cell in nb.cells if cell.cell_type == "code"
               for output in cell.outputs for mimetype in JS_MIMETYPES)


def link_pages(body, stems):
    """Point the links to a notebook of the site (01-name.ipynb#anchor) at its page."""
    def page(match):
        stem, anchor = match[1], match[2] or ""
        return f'href="{stem}.html{anchor}"' if stem in stems else match[0]
    return re.sub(r'href="(?:\./)?([^"/#]+)\.ipynb(#[^"]*)?"', page, body)


def navigation(pages, index):
    """The <nav> bar for page `index` of `pages`, a list of (file name, title)."""
    links = []
    if index > 0:
        name, title = pages[index - 1]
        links.append(f'<a href="{name}" rel="prev">&larr; {title_html(title)}</a>')
    links.append('<a href="index.html">Contents</a>')
    if index + 1 < len(pages):
        name, title = pages[index + 1]
        links.append(f'<a href="{name}" rel="next">{title_html(title)} &rarr;</a>')
    return '<nav class="d2lmini-nav">\n' + "\n".join(links) + "\n</nav>"


def build(paths, out):
    """Write out/index.html and one out/<name>.html per notebook; return the pages written."""
    notebooks = [without_navigation_cells(nbformat.read(path, as_version=4)) for path in paths]
    pages = [(f"{path.stem}.html", title_of(nb, path.stem)) for path, nb in zip(paths, notebooks)]
    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            extra_loaders=[DictLoader({"d2lmini-page.html.j2": PAGE_TEMPLATE})],
                            template_file="d2lmini-page.html.j2")
    stems = {path.stem for path in paths}
    out.mkdir(parents=True, exist_ok=True)
    for index, (path, nb) in enumerate(zip(paths, notebooks)):
        if never_run(nb):
            print(f"warning: {path} has cells that were never run; run `make notebooks` first",
                  file=sys.stderr)
        name, title = pages[index]
        resources = {
            "metadata": {"name": title.replace("`", ""), "path": str(path.resolve().parent)},
            "navigation": navigation(pages, index),
            "navigation_css": NAVIGATION_CSS,
            "needs_requirejs": needs_requirejs(nb),
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        (out / name).write_text(link_pages(body, stems), encoding="utf-8")
        print(f"wrote {out / name}")
    items = "\n".join(f'<li><a href="{name}">{title_html(title)}</a></li>' for name, title in pages)
    (out / "index.html").write_text(INDEX_PAGE.format(title=html.escape(SITE_TITLE), items=items),
                                    encoding="utf-8")
    print(f"wrote {out / 'index.html'}")
    return pages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="executed notebooks, in reading order (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder for the site (default: build/html)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
        return 0
    build(paths, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
