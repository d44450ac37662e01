"""The scratch notebooks of build/lite-tests (the `test_site` fixture) in headless Chromium.

- tests/fixtures/lite/widgets.ipynb: interactive cells that follow the lessons' widget
  contract. They must install ipywidgets from the site, display, and redraw their figure
  when each slider or dropdown is moved (widget_check.py, the check the lessons get too).
- the LeNet step of step_timing.py: one training step of notebook 08's network, timed in
  the browser and, with the same code, natively (this venv's Python, as it is and with
  OpenBLAS on one thread, as WebAssembly's NumPy runs); the ratios are reported in
  build/browser-times.txt. A timing is reported, never asserted.
"""

import os
import subprocess
import sys
import time

import nbformat
import pytest

import step_timing
from harness import FIXTURES, STEP_TIMES, TIMES, failed_requests
from test_lite import SCREENSHOTS, error_name, run_in_browser
from widget_check import display_errors, widget_problems


def site_url(served):
    return f"{served}/lite-tests/lab/index.html"


def errors_of(notebook):
    return [f"cell {index}: raised {error_name(cell)}"
            for index, cell in enumerate(notebook["cells"], start=1)
            if cell["cell_type"] == "code" and error_name(cell)]


def controls_in(path):
    """The sliders and dropdowns the fixture's cells create."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    return sum(code.count(f"ipywidgets.{kind}(")
               for kind in ("IntSlider", "FloatSlider", "Dropdown"))


def test_widgets_move_their_figures(driver, served, test_site):
    result = run_in_browser(driver, site_url(served), "notebooks/widgets.ipynb")
    TIMES.append(("lite-tests: notebooks/widgets.ipynb", "start", result["start"]))
    TIMES.append(("lite-tests: notebooks/widgets.ipynb", "run", result["run"]))
    TIMES.append(("lite-tests: notebooks/widgets.ipynb", "cells", result["cells"]))
    problems = errors_of(result["notebook"])
    problems += [f"on opening: {line!r}" for line in display_errors(result["opened"])]
    found, boxes, checked = widget_problems(driver, "widgets.ipynb")
    problems += found
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "lite-tests-widgets.png"))
    expected = controls_in(FIXTURES / "widgets.ipynb")
    if checked != expected:
        problems.append(f"{checked} controls moved, the notebook makes {expected}")
    problems += [f"request failed: {path} -> {code}" for path, code in failed_requests()]
    assert not problems, "\n".join(problems)


def test_the_check_reports_a_figure_that_does_not_move(driver, served, test_site):
    """The check can fail: with the first widget's observer removed, moving its slider
    leaves the figure as it was, and widget_problems says so."""
    result = run_in_browser(driver, site_url(served), "notebooks/widgets.ipynb")
    assert not errors_of(result["notebook"])
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const panel = window.jupyterapp.shell.currentWidget;
        const future = panel.sessionContext.session.kernel.requestExecute(
            {code: 'power.unobserve(draw_curve, names="value")'});
        future.done.then(() => done(true));
    """)
    found, boxes, checked = widget_problems(driver, "widgets.ipynb", timeout=10)
    assert any("widget 1 of" in problem and "did not change" in problem for problem in found), \
        found
    assert not any("widget 2 of" in problem for problem in found), found


def test_training_step_in_the_browser_and_natively(driver, served, test_site):
    result = run_in_browser(driver, site_url(served), f"notebooks/{step_timing.NOTEBOOK}")
    assert not errors_of(result["notebook"]), errors_of(result["notebook"])
    printed = "".join(
        "".join(output.get("text", "")) for cell in result["notebook"]["cells"]
        if cell["cell_type"] == "code" for output in cell["outputs"]
        if output["output_type"] == "stream")
    browser = step_timing.parse(printed)
    started = time.perf_counter()
    native, single = (step_timing.parse(subprocess.run(
        [sys.executable, "-c", step_timing.timing_code()], check=True, capture_output=True,
        text=True, cwd=step_timing.ROOT, env={**os.environ, "MPLBACKEND": "Agg", **extra}).stdout)
        for extra in ({}, {"OPENBLAS_NUM_THREADS": "1"}))  # this machine's BLAS; one thread
    for dtype in browser:
        STEP_TIMES.append((f"one LeNet training step, {dtype} (notebook 08's net, batch "
                           f"{step_timing.BATCH}; best and median of {step_timing.REPEATS} "
                           f"blocks of {step_timing.STEPS} steps)", browser[dtype],
                           native[dtype], single[dtype]))
    print(f"browser {browser} ms, native {native} ms, one BLAS thread {single} ms "
          f"({time.perf_counter() - started:.1f} s)")
    assert browser.keys() == native.keys() == single.keys() == {"float32", "float64"}


SAVE = r"""
const [path, content, done] = arguments;
(async () => {
  const app = window.jupyterapp;
  await app.started;
  await app.restored;
  await app.serviceManager.contents.save(path, {type: 'notebook', format: 'json', content});
  done(true);
})().catch(error => done(String(error)));
"""


def test_a_stored_widget_view_shows_as_text_on_opening(driver, served, test_site):
    """Why the site's copies drop stored widget views, and that the check on opening sees
    it: the fixture as executed natively, with its views, saved into the browser's storage
    and opened, shows each widget's text form (its model is gone) where the widget was."""
    import json

    from selenium.webdriver.support.ui import WebDriverWait

    nb = json.loads((FIXTURES / "widgets.ipynb").read_text())
    nb["metadata"]["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)",
                                    "language": "python"}
    nb["cells"] = [cell for cell in nb["cells"] if cell["cell_type"] == "markdown"
                   or "ipywidgets.VBox" in "".join(cell["source"])]  # nothing that runs long
    driver.get(site_url(served))
    WebDriverWait(driver, 120).until(lambda d: d.execute_script("return !!(window.jupyterapp)"))
    assert driver.execute_async_script(SAVE, "with-views.ipynb", nb) is True
    result = run_in_browser(driver, site_url(served), "with-views.ipynb")
    assert len(display_errors(result["opened"])) == 2, result["opened"][-2000:]
