"""Every notebook of the JupyterLite site (build/lite, `make lite`) runs in headless Chromium.

For each lesson and each student copy: open it, clear its outputs, run every cell in turn (as
Shift+Enter does; see the README on Run All), and compare with the outputs stored in it (the
lesson's, from `make notebooks`):
- no cell errors, except a cell tagged `raises-exception`, which must raise the stored
  error (in a student copy: a `solution` cell raises NotImplementedError or, where the stub
  is a function's body, nothing, and every self-check raises);
- every text output is the stored one (after nbval's sanitizing, tests/sanitize.cfg),
  except in cells marked NBVAL_IGNORE_OUTPUT; nothing new on stderr. Strictly: a number
  that differs in its last printed digit fails too (a learner in the browser must see the
  numbers the lesson shows); the report says when only digits differ, and where;
- every cell shows as many figures as it stored, and each figure's image loads in the page;
- where the run shows interactive widgets (the lessons' `d2lmini-widget` boxes), each slider
  and dropdown is moved as a user moves it and the figure in its Output must change, with no
  error (widget_check.py); no widget, on opening or after the run, says "Error displaying
  widget" / "model not found".
The time to open the notebook and start the kernel, and to run it (with its slowest cells),
goes to build/browser-times.txt (a table) and to the end of the run's report.
"""

import configparser
import re
import time
from pathlib import Path

import nbformat
import pytest

from harness import BUILD, CHECKED, NOTES, ROOT, TIMES, failed_requests
from widget_check import display_errors, widget_problems

LITE = BUILD / "lite"
FILES = LITE / "files"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = BUILD / "screenshots"
IGNORE_MARKS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

RUN_NOTEBOOK = r"""
const [path, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const app = window.jupyterapp;
  await app.started;
  await app.restored;
  const t0 = performance.now();
  const widget = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  await widget.context.ready;
  app.shell.activateById(widget.id);
  await widget.revealed;
  await widget.sessionContext.ready;
  await widget.sessionContext.session.kernel.info;
  const t1 = performance.now();
  // What the learner sees on opening, once the stored outputs have rendered (a stored widget
  // view says "Loading widget..." until the kernel is up, then shows what became of it).
  for (let waited = 0; waited < 5000 && widget.node.innerText.includes('Loading widget');
       waited += 250) {
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  await new Promise(resolve => setTimeout(resolve, 500));
  const opened = widget.node.innerText;
  const t1b = performance.now();
  const kernel = widget.sessionContext.session.kernel;
  const events = [];
  kernel.connectionStatusChanged.connect((_, status) => events.push(`connection ${status}`));
  kernel.statusChanged.connect((_, status) => {
    if (['restarting', 'dead', 'autorestarting'].includes(status)) events.push(`kernel ${status}`);
  });
  await app.commands.execute('notebook:clear-all-cell-outputs');
  // One cell at a time, as a learner pressing Shift+Enter from the top.
  const notebook = widget.content;
  // [cell number (from 1, as problems_of counts), id, seconds] of each code cell run
  const cells = [];
  for (let i = 0; i < notebook.widgets.length; i++) {
    notebook.activeCellIndex = i;
    if (notebook.widgets[i].model.type === 'code') {
      const started = performance.now();
      await app.commands.execute('notebook:run-cell');
      cells.push([i + 1, notebook.widgets[i].model.id, (performance.now() - started) / 1000]);
    }
  }
  const t2 = performance.now();
  await new Promise(resolve => setTimeout(resolve, 500));  // let the last images decode
  const loaded = widget.content.widgets.map(cell =>
    [...cell.node.querySelectorAll('.jp-OutputArea-output img')]
      .filter(img => !img.closest('.widget-output'))  // a widget's figures: widget_check
      .filter(img => img.complete && img.naturalWidth > 0).length);
  done({start: (t1 - t0) / 1000, run: (t2 - t1b) / 1000, cells,
        notebook: widget.content.model.toJSON(), loaded, events, opened,
        page: widget.node.innerText});
})().catch(error => done({error: String(error) + '\n' + (error.stack || '')}));
"""


def sanitizers():
    """nbval's (regex, replacement) pairs from tests/sanitize.cfg."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "sanitize.cfg", encoding="utf-8")
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


SANITIZERS = sanitizers()


def sanitize(text):
    for regex, replacement in SANITIZERS:
        text = regex.sub(replacement, text)
    return text


def text_outputs(cell):
    """The cell's outputs as comparable text: streams joined per name, results' text/plain."""
    streams, results = {}, []
    for output in cell["outputs"]:
        kind = output["output_type"]
        if kind == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + "".join(output["text"])
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain")
            if WIDGET_VIEW in output.get("data", {}):  # checked by moving it: widget_check
                continue
            if text is not None and "image/png" not in output["data"]:
                results.append(sanitize("".join(text)))
    return {name: sanitize(text) for name, text in streams.items()}, results


def images(cell):
    return sum("image/png" in output.get("data", {}) for output in cell["outputs"]
               if output["output_type"] in ("execute_result", "display_data"))


def error_name(cell):
    """The name of the error the cell raised, or None (the Pyodide kernel gives
    "<class 'module.Name'>" where IPython gives "Name")."""
    name = next((output["ename"] for output in cell["outputs"]
                 if output["output_type"] == "error"), None)
    match = re.fullmatch(r"<class '(?:[\w.]+\.)?(\w+)'>", name or "")
    return match[1] if match else name


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def close(old, new, rtol=1e-2):
    """True if the texts differ only in numbers, each within `rtol` (a last digit printed
    from a sum that WebAssembly's NumPy adds up in another order)."""
    if NUMBER.sub("#", old) != NUMBER.sub("#", new):
        return False
    pairs = zip(map(float, NUMBER.findall(old)), map(float, NUMBER.findall(new)))
    return all(abs(a - b) <= rtol * max(abs(a), abs(b)) for a, b in pairs)


def differing_lines(old, new):
    """The lines that differ, as '  stored:  ...' / '  browser: ...' pairs."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    pairs = []
    for number in range(max(len(old_lines), len(new_lines))):
        a = old_lines[number] if number < len(old_lines) else "(no line)"
        b = new_lines[number] if number < len(new_lines) else "(no line)"
        if a != b:
            pairs.append(f"    line {number + 1}\n      stored:  {a}\n      browser: {b}")
    return pairs


def difference_report(old_streams, streams, old_results, results):
    """What differs, line by line, and whether only in printed digits (then the fix is in the
    notebook: print what survives another summation order, e.g. fewer significant digits)."""
    parts = []
    for name in sorted(set(old_streams) | set(streams)):
        a, b = old_streams.get(name, ""), streams.get(name, "")
        if a != b:
            parts.append(f"  {name}:")
            parts += differing_lines(a, b)
    for number in range(max(len(old_results), len(results))):
        a = old_results[number] if number < len(old_results) else ""
        b = results[number] if number < len(results) else ""
        if a != b:
            parts.append(f"  result {number + 1}:")
            parts += differing_lines(a, b)
    digits_only = (streams.keys() == old_streams.keys() and len(results) == len(old_results)
                   and all(close(old_streams[k], streams[k]) for k in streams)
                   and all(close(a, b) for a, b in zip(old_results, results)))
    kind = ("only printed digits differ (each number within 1%): print fewer digits there"
            if digits_only else "the text differs")
    return digits_only, f"outputs differ, {kind}\n" + "\n".join(parts)


def ignored(cell):
    return any(mark in cell["source"].split("\n", 1)[0] for mark in IGNORE_MARKS)


def run_in_browser(driver, url, path):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 120).until(
        lambda d: d.execute_script("return !!(window.jupyterapp)"))
    result = driver.execute_async_script(RUN_NOTEBOOK, path)
    if "error" in result:
        pytest.fail(f"{path}: the page failed: {result['error']}")
    return result


NEAR = []  # outputs that differ from the stored ones only in printed digits (also failures)


def problems_of(stored, ran, loaded, student):
    """What differs between the stored notebook and the one run in the browser."""
    problems = []
    fresh = {cell["id"]: (cell, count) for cell, count in zip(ran["cells"], loaded)}
    for index, cell in enumerate(stored.cells, start=1):
        if cell.cell_type != "code":
            continue
        where = f"cell {index} (id {cell.id})"
        if cell.id not in fresh:
            problems.append(f"{where}: not in the notebook the browser ran")
            continue
        new, shown = fresh[cell.id]
        tags = cell.metadata.get("tags", [])
        if new.get("execution_count") is None and cell.source.strip():
            problems.append(f"{where}: did not run")
            continue
        error, expected_error = error_name(new), error_name(cell)
        if "raises-exception" in tags:
            if student and "solution" in tags:  # the stub raises, unless it is a function's body
                if error not in (None, "NotImplementedError"):
                    problems.append(f"{where}: the stubbed solution raised {error}")
                continue
            if student and "self-check" in tags:
                if error is None:
                    problems.append(f"{where}: the self-check passed on the stub")
                continue
            if error != expected_error:
                problems.append(f"{where}: raised {error}, stored {expected_error}")
        elif error is not None:
            trace = "\n".join(new["outputs"][-1].get("traceback", []))
            trace = re.sub(r"\x1b\[[0-9;]*m", "", trace)  # no terminal colours
            problems.append(f"{where}: raised {error}:\n{trace}")
        if images(new) != images(cell):
            problems.append(f"{where}: {images(new)} figures, stored {images(cell)}")
        if shown != images(new):
            problems.append(f"{where}: {images(new)} figures, {shown} shown in the page")
        if ignored(cell) or cell.metadata.get("d2lmini", {}).get("lite") == "install":
            continue
        (streams, results), (old_streams, old_results) = text_outputs(new), text_outputs(cell)
        if error is not None:  # tracebacks differ in form; the error's name was compared
            streams.pop("stderr", None), old_streams.pop("stderr", None)
        if streams != old_streams or results != old_results:
            # Strict: a learner in the browser sees the numbers the stored outputs show.
            digits_only, report = difference_report(old_streams, streams, old_results, results)
            problems.append(f"{where}: {report}")
            if digits_only:
                NEAR.append(f"{where}: {report}")
    return problems


def widget_views(cell):
    """How many widgets the cell's outputs show: a view, in a notebook just run, or the mark
    tools/run_notebooks.py leaves in a stored lesson in place of the view."""
    return sum(WIDGET_VIEW in output.get("data", {})
               or output.get("metadata", {}).get("d2lmini", {}).get("widget", False)
               for output in cell.get("outputs", [])
               if output["output_type"] in ("execute_result", "display_data"))


def widget_check_of(driver, path, stored, result):
    """The widgets of the notebook just run: none broken on opening or after the run, as
    many shown as stored, each control moving its figure (widget_check.widget_problems)."""
    problems = [f"{path}, on opening: the page says {line!r}"
                for line in display_errors(result["opened"])]
    lesson = nbformat.read(ROOT / "notebooks" / Path(path).name, as_version=4)
    stored_views = sum(widget_views(cell) for cell in lesson.cells)
    ran_views = sum(widget_views(cell) for cell in result["notebook"]["cells"])
    if ran_views != stored_views:
        problems.append(f"{path}: {ran_views} widget views after the run, stored {stored_views}")
    if ran_views or stored_views:
        found, boxes, checked = widget_problems(driver, path)
        problems += found
        if not boxes:
            problems.append(f"{path}: {ran_views} widget views, no d2lmini-widget in the page")
        CHECKED.append((path, boxes, checked))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / f"lite-widgets-{path.replace('/', '-')}.png"))
    return problems


@pytest.mark.parametrize("folder", ["notebooks", "student"])
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlite(driver, served, folder, name):
    path = f"{folder}/{name}"
    stored = nbformat.read(FILES / path, as_version=4)
    started = time.perf_counter()
    result = run_in_browser(driver, f"{served}/lite/lab/index.html", path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"lite-{folder}-{Path(name).stem}.png"))
    TIMES.append((path, "start", result["start"]))
    TIMES.append((path, "run", result["run"]))
    TIMES.append((path, "cells", result["cells"]))
    ran = result["notebook"]
    NEAR.clear()
    problems = problems_of(stored, ran, result["loaded"], student=(folder == "student"))
    NOTES.extend(f"{path}, {note}" for note in NEAR)
    problems += widget_check_of(driver, path, stored, result)
    problems += [f"kernel connection: {event}" for event in result["events"]]
    problems += [f"request failed: {path} -> {code}" for path, code in failed_requests()]
    assert not problems, (f"{path} in the browser ({time.perf_counter() - started:.0f} s):\n"
                          + "\n".join(problems))
