"""Fixtures of the browser tests: build/ served on 127.0.0.1, Debian's headless Chromium.

These tests run only through `make test-browser` (which builds the sites first and sets
D2LMINI_BROWSER_TESTS=1); plain `make test` does not collect them, so it needs no browser.

The server serves build/ as it is, with one change: the JupyterLite configuration it sends
also sets `exposeAppInBrowser`, so that the test can drive JupyterLab's commands and read
the notebook model (the published site does not expose it). Chromium may reach 127.0.0.1
only: every host name resolves to nothing and every other address goes to a closed proxy;
a request the server did not answer is reported by the test that caused it.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from harness import BUILD, CHECKED, FIXTURES, NOTES, ROOT, STEP_TIMES, TEST_SITE, TIMES, Handler

if os.environ.get("D2LMINI_BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py", "harness.py", "widget_check.py", "step_timing.py"]


@pytest.fixture(scope="session")
def server():
    """The base URL of build/, served on 127.0.0.1 at a free port."""
    handler = functools.partial(Handler, directory=str(BUILD))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def chromium_paths():
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for path, package in ((browser, "chromium"), (driver, "chromium-driver")):
        if not Path(path).exists():
            pytest.fail(f"{path} not found: apt-get install chromium chromium-driver "
                        f"(Debian's {package} package)")
    return browser, driver


@pytest.fixture(scope="session")
def driver():
    """Headless Chromium that may reach 127.0.0.1 only."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--disable-gpu",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                     "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-default-apps", "--disable-sync", "--no-first-run"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver)
    chrome = webdriver.Chrome(service=service, options=options)
    # A notebook may run for minutes on a loaded machine: the script may take 600 s, and the
    # client waits longer than that for chromedriver's answer (its default, 120 s, cut off a
    # run of notebook 04 under load with a bare ReadTimeoutError).
    chrome.set_script_timeout(600)
    chrome.command_executor.client_config.timeout = 900
    yield chrome
    chrome.quit()


@pytest.fixture
def served(server):
    """The server's base URL, with its request log emptied; check with `outside_requests`."""
    Handler.requests.clear()
    return server




@pytest.fixture(scope="session")
def test_site(tmp_path_factory):
    """build/lite-tests: a JupyterLite site built by tools/lite.py, as the lessons' is, from
    the scratch notebooks of the browser tests (tests/fixtures/lite/*.ipynb, the timing
    notebook of step_timing.py); served beside build/lite."""
    import step_timing

    notebooks = sorted(FIXTURES.glob("*.ipynb"))
    notebooks.append(step_timing.write_notebook(tmp_path_factory.mktemp("scratch")))
    subprocess.run([sys.executable, str(ROOT / "tools" / "lite.py"), "--out", str(TEST_SITE),
                    *map(str, notebooks)], check=True, stdout=subprocess.DEVNULL)
    return TEST_SITE


def time_rows():
    """{notebook: {"start": s, "run": s, "cells": [[cell number, cell id, s], ...]}}, in the
    order run (the cell numbers count from 1 in the browser's copy, its install cell too)."""
    rows = {}
    for path, what, seconds in TIMES:
        rows.setdefault(path, {})[what] = seconds
    return rows


def time_table():
    """The browser timings as a table: one row per notebook, then the training step."""
    rows = time_rows()
    order = list(rows)
    lines = [f"{'notebook':<44} {'kernel start':>12} {'run':>8}   slowest cells (cell: s)"
             ] if order else []
    for path in order:
        start, run = rows[path].get("start"), rows[path].get("run")
        slowest = sorted(rows[path].get("cells", []), key=lambda cell: -cell[2])[:3]
        cells = ", ".join(f"{number}: {seconds:.1f}" for number, _, seconds in slowest)
        lines.append(f"{path:<44} {start:>10.1f} s {run:>6.1f} s   {cells}".rstrip())
    if len(order) > 1:
        lines.append(f"{'total':<44} {sum(r.get('start', 0) for r in rows.values()):>10.1f} s "
                     f"{sum(r.get('run', 0) for r in rows.values()):>6.1f} s")
    for what, browser, native, single in STEP_TIMES:
        lines += ["", what, f"  browser                     {browser[0]:8.2f} ms "
                  f"(median {browser[1]:.2f})",
                  f"  native                      {native[0]:8.2f} ms (median {native[1]:.2f})",
                  f"  native, one OpenBLAS thread {single[0]:8.2f} ms (median {single[1]:.2f})",
                  f"  browser/native {browser[0] / native[0]:.1f}x, browser/one thread "
                  f"{browser[0] / single[0]:.1f}x (best of each)"]
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter):
    if TIMES or STEP_TIMES:
        table = time_table()
        BUILD.mkdir(exist_ok=True)
        (BUILD / "browser-times.txt").write_text(table)
        (BUILD / "browser-times.json").write_text(json.dumps(time_rows(), indent=1))
        terminalreporter.write_sep("-", "time in the browser (build/browser-times.txt, "
                                       "every cell in .json)")
        for line in table.splitlines():
            terminalreporter.write_line(line)
    if CHECKED:
        terminalreporter.write_sep("-", "widgets moved")
        for path, boxes, controls in CHECKED:
            terminalreporter.write_line(f"{path:<44} {boxes} widgets, {controls} controls moved")
    if NOTES:
        terminalreporter.write_sep("-", "outputs that differ from the stored ones (failures)")
        for note in NOTES:
            terminalreporter.write_line(note)
