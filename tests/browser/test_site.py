"""Every page of the static site (build/html, `make html`) renders in headless Chromium.

Offline (only 127.0.0.1 is reachable): MathJax typesets every formula (no raw `$$`, `\\(` or
`$` left in the text, no MathJax error), every figure's image loads, and every link to a page
of the site, to an anchor in it or to the JupyterLite site leads somewhere that exists.
A screenshot of each page is saved in build/screenshots/.
"""

import html
import re
import urllib.error
import urllib.parse
import urllib.request

import nbformat
import pytest

from harness import BUILD, ROOT, failed_requests

HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = ["index.html"] + [f"{path.stem}.html" for path in NOTEBOOKS]

WAIT_FOR_MATH = r"""
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.Hub) { done(false); }
else { MathJax.Hub.Queue(() => done(true)); }
"""

# The text a reader sees, outside code: raw TeX left over would show here.
PROSE_TEXT = r"""
const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE']);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const texts = [];
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  let parent = node.parentElement, inside = false;
  for (; parent; parent = parent.parentElement) {
    if (skip.has(parent.tagName) || parent.classList.contains('MathJax_Preview')
        || parent.classList.contains('jp-CodeCell')) { inside = true; break; }
  }
  if (!inside && node.textContent.trim()) texts.push(node.textContent);
}
return texts.join('\n');
"""

IMAGES = r"""
return [...document.images].map(img => [img.getAttribute('src').slice(0, 60),
                                        img.complete && img.naturalWidth > 0]);
"""

LINKS = r"""
return [...document.querySelectorAll('a[href]')].map(a => a.href);
"""


def math_in(nb):
    """True if the notebook's markdown holds TeX math."""
    return any(cell.cell_type == "markdown" and re.search(r"\$[^$\s][^$]*\$|\\\(", cell.source)
               for cell in nb.cells)


def figures_in(nb):
    return sum("image/png" in output.get("data", {}) for cell in nb.cells
               if cell.cell_type == "code" for output in cell.outputs)


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def check_link(url, base, problems, page):
    """Check one link of `page`: pages and anchors of the site, the JupyterLite notebooks."""
    parts = urllib.parse.urlsplit(url)
    if not url.startswith(base):
        if parts.scheme not in ("https", "http", "mailto"):
            problems.append(f"{page}: link {url!r} is neither on the site nor on the web")
        return
    status, body = status_of(url.split("#")[0])
    if status != 200:
        problems.append(f"{page}: link {url} answers {status}")
        return
    ids = {parts.fragment, html.escape(urllib.parse.unquote(parts.fragment))}  # as browsers do
    if parts.fragment and not any(f'id="{name}"' in body.decode() for name in ids):
        problems.append(f"{page}: link {url}: no element with id {parts.fragment!r}")
    if parts.path.startswith("/lite/"):
        path = urllib.parse.parse_qs(parts.query).get("path", [None])[0]
        if path and not (BUILD / "lite" / "files" / path).is_file():
            problems.append(f"{page}: link {url}: the JupyterLite site has no {path}")


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(driver, served, page):
    driver.get(f"{served}/html/{page}")
    has_mathjax = driver.execute_async_script(WAIT_FOR_MATH)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"site-{page.removesuffix('.html')}.png"))
    problems = []
    prose = driver.execute_script(PROSE_TEXT)
    for raw in ("$$", "\\(", "\\[", "$"):
        if raw in prose:
            line = next(line for line in prose.splitlines() if raw in line)
            problems.append(f"{page}: raw TeX {raw!r} shows: {line.strip()[:120]!r}")
    errors = driver.execute_script(
        "return document.querySelectorAll('.MathJax_Error, merror, .mjx-merror').length")
    if errors:
        problems.append(f"{page}: {errors} formulas MathJax could not typeset")
    images = driver.execute_script(IMAGES)
    problems += [f"{page}: image {src}... does not load" for src, ok in images if not ok]
    if page == "index.html":
        if len(images) != len(NOTEBOOKS):
            problems.append(f"index.html: {len(images)} thumbnails for {len(NOTEBOOKS)} notebooks")
    else:
        nb = nbformat.read(ROOT / "notebooks" / page.replace(".html", ".ipynb"), as_version=4)
        if math_in(nb):
            if not has_mathjax:
                problems.append(f"{page}: has math but MathJax did not load")
            elif not driver.execute_script("return document.querySelectorAll("
                                           "'.MathJax, .MathJax_Display').length"):
                problems.append(f"{page}: has math but none was typeset")
        if len(images) < figures_in(nb):
            problems.append(f"{page}: {len(images)} images, the notebook has {figures_in(nb)}")
    for url in sorted(set(driver.execute_script(LINKS))):
        check_link(url, served, problems, page)
    problems += [f"{page}: request failed: {path} -> {code}" for path, code in failed_requests()]
    assert not problems, "\n".join(problems)
