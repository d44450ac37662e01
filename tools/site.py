"""Render the executed notebooks to a static site: an index and one page per notebook.

Usage: python tools/site.py [--out DIR] [NOTEBOOK.ipynb ...]
       (default: every notebooks/*.ipynb, in name order, into build/html/)

Nothing is executed: the pages show the outputs saved in the notebooks (`make notebooks`
refreshes them). Each page is nbconvert's JupyterLab page (the 'lab' template) with the
figures embedded as data URIs, and links to the previous notebook, the contents and the
next notebook at its top and bottom; these replace the notebooks' own navigation cells
(from tools/navigation.py), and a link to another notebook's .ipynb file in the text is
pointed at its page. `index.html` lists the notebooks, each under the text of its first
`# ` heading, with one line on what it teaches (the first sentence of its "What you'll do"
paragraph) and a thumbnail (the figure of its cell tagged `readme-figure`, else its first).
Every page and index entry links to the same notebook in the JupyterLite site (`make lite`),
at --lite-url (default ../lite/, as build/html and build/lite lie side by side); the index
also links each notebook's student copy there.

The pages read offline: the CSS is inlined, the figures embedded, and MathJax (2.7, from the
jupyter-server-mathjax package) is copied into the site's mathjax/ folder, so no formula
waits for a CDN. require.js (for widgets and JavaScript outputs) is kept only on pages with
such outputs.
"""

import argparse
import base64
import html
import re
import shutil
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
LITE_URL = "../lite/"  # build/lite beside build/html
MATHJAX_PARTS = ("MathJax.js", "LICENSE", "config", "extensions", "jax", "fonts")  # no translations
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# nbconvert's MathJax settings, with the fonts the copy holds (STIX-Web), as Jupyter's own.
MATHJAX_CONFIG = """<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
            displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], imageFont: null, preferredFont: null, webFont: "STIX-Web",
               linebreaks: {automatic: true}},
  displayAlign: "center", messageStyle: "none"
});
</script>
<script defer src="{url}"></script>"""

# The 'lab' page, plus navigation; MathJax deferred; require.js only where an output needs it.
PAGE_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if resources.needs_requirejs -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_requirejs -%}
{%- block extra_css -%}
<style type="text/css">{{ resources.navigation_css }}</style>
{%- endblock extra_css -%}
{%- block html_head_js_mathjax -%}
{{ resources.mathjax_head }}
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
nav.d2lmini-nav a.d2lmini-run { font-weight: bold; }
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
ol.contents {{ list-style: none; padding-left: 0; }}
ol.contents li {{ display: flex; gap: 1em; align-items: flex-start; margin: 1.2em 0; }}
ol.contents img {{ width: 10em; height: 6.5em; object-fit: contain; flex: none;
  border: 1px solid #ddd; background: white; }}
ol.contents .title {{ font-size: 1.2em; font-weight: 600; }}
ol.contents p {{ margin: 0.2em 0; }}
ol.contents .links {{ font-size: 0.95em; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p>Notebooks that re-teach the section <em>Convolutions for Images</em> of
<a href="https://d2l.ai">Dive into Deep Learning</a> on NumPy and Matplotlib. Read them in order.
Each one also runs in your browser, with nothing to install: follow its
<em>run in the browser</em> link (the first start takes a few seconds).</p>
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


def summary_of(nb):
    """One line on what the notebook teaches: the first sentence of its "What you'll do"
    paragraph, else of the first paragraph after its title ("" if there is none)."""
    texts = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    text = "\n".join(texts)
    match = re.search(r"\*\*What you'll do\W*\*\*\W*(.+?)(?:\n\n|$)", text, re.DOTALL)
    if not match:
        heading = re.search(r"^# .*\n+((?:(?!\n\n).)+)", text, re.MULTILINE | re.DOTALL)
        if not heading:
            return ""
        match = heading
    paragraph = " ".join(match[1].split())
    sentence = re.match(r"(.+?[.!?])(?:\s|$)", paragraph)
    line = sentence[1] if sentence else paragraph
    line = re.sub(r";.*", ".", line)  # the first step of several
    return line[:1].upper() + line[1:]


def thumbnail_of(nb):
    """The PNG bytes of the notebook's `readme-figure` cell's figure, else its first figure."""
    cells = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in cells if "readme-figure" in c.metadata.get("tags", [])]
    for cell in tagged + cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                return base64.b64decode(png)
    return None


def lite_link(lite_url, folder, path):
    """The URL of notebook `path` in the JupyterLite site's `folder` (notebooks/student)."""
    return f"{lite_url}lab/index.html?path={folder}/{path.name}"


def copy_mathjax(out):
    """Copy MathJax 2.7 from the jupyter-server-mathjax package into out/mathjax."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        sys.exit("error: tools/site.py needs the jupyter-server-mathjax package (MathJax for "
                 "offline pages): pip install -e '.[test]'")
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = out / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        elif (source / part).exists():
            shutil.copy(source / part, target / part)


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


def navigation(pages, index, run_url=None):
    """The <nav> bar for page `index` of `pages`, a list of (file name, title)."""
    links = []
    if index > 0:
        name, title = pages[index - 1]
        links.append(f'<a href="{name}" rel="prev">&larr; {title_html(title)}</a>')
    links.append('<a href="index.html">Contents</a>')
    if run_url:
        links.append(f'<a class="d2lmini-run" href="{html.escape(run_url)}">Run in the browser</a>')
    if index + 1 < len(pages):
        name, title = pages[index + 1]
        links.append(f'<a href="{name}" rel="next">{title_html(title)} &rarr;</a>')
    return '<nav class="d2lmini-nav">\n' + "\n".join(links) + "\n</nav>"


def build(paths, out, lite_url=LITE_URL):
    """Write out/index.html and one out/<name>.html per notebook; return the pages written."""
    notebooks = [without_navigation_cells(nbformat.read(path, as_version=4))
                 for path in paths]
    pages = [(f"{path.stem}.html", title_of(nb, path.stem)) for path, nb in zip(paths, notebooks)]
    exporter = HTMLExporter(template_name="lab", embed_images=True,
                            extra_loaders=[DictLoader({"d2lmini-page.html.j2": PAGE_TEMPLATE})],
                            template_file="d2lmini-page.html.j2")
    stems = {path.stem for path in paths}
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    (out / "thumbs").mkdir(exist_ok=True)
    for index, (path, nb) in enumerate(zip(paths, notebooks)):
        if never_run(nb):
            print(f"warning: {path} has cells that were never run; run `make notebooks` first",
                  file=sys.stderr)
        name, title = pages[index]
        resources = {
            "metadata": {"name": title.replace("`", ""), "path": str(path.resolve().parent)},
            "navigation": navigation(pages, index, lite_link(lite_url, "notebooks", path)),
            "navigation_css": NAVIGATION_CSS,
            "mathjax_head": MATHJAX_CONFIG.replace("{url}", MATHJAX_URL),
            "needs_requirejs": needs_requirejs(nb),
        }
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        (out / name).write_text(link_pages(body, stems), encoding="utf-8")
        print(f"wrote {out / name}")
    items = []
    for path, nb, (name, title) in zip(paths, notebooks, pages):
        png = thumbnail_of(nb)
        image = ""
        if png:
            (out / "thumbs" / f"{path.stem}.png").write_bytes(png)
            image = f'<a href="{name}" tabindex="-1"><img src="thumbs/{path.stem}.png" alt=""></a>'
        links = (f'<a href="{html.escape(lite_link(lite_url, "notebooks", path))}">run in the '
                 f'browser</a> &middot; <a href="{html.escape(lite_link(lite_url, "student", path))}">'
                 'exercises only (student copy)</a>')
        items.append(f'<li>{image}<div><a class="title" href="{name}">{title_html(title)}</a>'
                     f'<p>{title_html(summary_of(nb))}</p><p class="links">{links}</p></div></li>')
    items = "\n".join(items)
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
    parser.add_argument("--lite-url", default=LITE_URL,
                        help="where the JupyterLite site is, relative to the pages or absolute "
                             f"(default: {LITE_URL})")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {NOTEBOOKS}")
        return 0
    lite_url = args.lite_url if args.lite_url.endswith("/") else args.lite_url + "/"
    build(paths, args.out, lite_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
