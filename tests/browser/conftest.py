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
import os
import shutil
import threading
from pathlib import Path

import pytest

from harness import BUILD, NOTES, TIMES, Handler

if os.environ.get("D2LMINI_BROWSER_TESTS") != "1":
    collect_ignore_glob = ["test_*.py", "harness.py"]


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


def pytest_terminal_summary(terminalreporter):
    if TIMES:
        terminalreporter.write_sep("-", "time in the browser")
        for what, seconds in TIMES:
            terminalreporter.write_line(f"{what:<48} {seconds:6.1f} s")
    if NOTES:
        terminalreporter.write_sep("-", "outputs that differ in a last digit")
        for note in NOTES:
            terminalreporter.write_line(note)
