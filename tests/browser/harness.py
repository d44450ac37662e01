"""What the browser tests share: where build/ is, the server's handler, the timings."""

import http.server
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
TEST_SITE = BUILD / "lite-tests"  # the scratch notebooks' site (conftest's test_site)
FIXTURES = ROOT / "tests" / "fixtures" / "lite"
TIMES = []  # (notebook, "start", "run" or "cells", seconds or [[cell, id, seconds]])
CHECKED = []  # (notebook, widgets found, controls moved), printed at the end
STEP_TIMES = []  # (what, (best, median) ms: in the browser, natively, natively on 1 thread)
NOTES = []  # what passed but differs from the stored notebooks, printed at the end


class Handler(http.server.SimpleHTTPRequestHandler):
    """build/ as files; jupyter-lite.json with exposeAppInBrowser; each request logged."""

    requests = []  # (path, status) since the last reset

    def log_message(self, format, *args):  # quiet: the test reads `requests`
        pass

    def send_response(self, code, message=None):
        Handler.requests.append((self.path, code))
        super().send_response(code, message)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith(("/lite/", "/lite-tests/")) and path.endswith("/jupyter-lite.json"):
            file = BUILD / path.lstrip("/")
            if file.is_file():
                config = json.loads(file.read_text())
                config["jupyter-config-data"]["exposeAppInBrowser"] = True
                body = json.dumps(config).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()


Handler.extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          ".wasm": "application/wasm", ".js": "text/javascript",
                          ".mjs": "text/javascript", ".json": "application/json"}


def failed_requests():
    """The requests the server answered with an error since the test began."""
    return [(path, code) for path, code in Handler.requests
            if code >= 400 and path != "/favicon.ico"  # the browser's own guess
            and not path.startswith("/lite/api/contents/")]  # JupyterLite's probes for files
