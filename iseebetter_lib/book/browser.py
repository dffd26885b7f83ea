"""Headless Chromium driven over the DevTools protocol (websocket-client): load a page, record what went wrong.

Used by the checks of the HTML book and of JupyterLab. Chromium comes from the system (Debian's `chromium`); nothing
is downloaded. A page visit records every request, failed requests, HTTP errors, JavaScript exceptions and console
errors.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iseebetter_lib.errors import UserError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--no-default-browser-check", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-allow-origins=*", "--window-size=1280,900",
         # offline by construction: no host name resolves except the loopback address (requests are still recorded)
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost")


def find_chromium() -> str | None:
    """Path of a Chromium executable ($CHROMIUM, else the usual names on PATH), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


@dataclass
class PageVisit:
    """What one page load did: its title, requests, and the problems the browser reported."""

    url: str
    title: str = ""
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "url (reason)"
    js_errors: list[str] = field(default_factory=list)


class Chromium:
    """One headless Chromium with one page (tab), closed on exit."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0) -> None:
        import websocket  # websocket-client

        exe = executable or find_chromium()
        if exe is None:
            raise UserError("chromium not found (install Debian's `chromium` or set $CHROMIUM)")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="iseebetter-chromium-")
        self._proc = subprocess.Popen([exe, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={self._profile}",
                                       "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._ws: Any = None
        try:
            port = self._devtools_port()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                target = json.load(resp)
            self._ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=timeout,
                                                   suppress_origin=True)
        except BaseException:
            self.close()
            raise
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)

    def _devtools_port(self) -> int:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise UserError(f"chromium exited at start (status {self._proc.returncode})")
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            time.sleep(0.05)
        raise UserError("chromium did not open its DevTools port")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile are kept."""
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error'].get('message')}")
                return msg.get("result", {})
            if "method" in msg:
                self._events.append(msg)

    def _pump(self, seconds: float) -> None:
        """Collect events for `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._ws.settimeout(left)
            try:
                msg = json.loads(self._ws.recv())
            except Exception:  # noqa: BLE001 - websocket timeout: nothing more arrived
                break
            finally:
                self._ws.settimeout(self.timeout)
            if "method" in msg:
                self._events.append(msg)

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """Value of a JavaScript expression in the page (JSON-serialisable results)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, seconds: float) -> bool:
        """Poll a JavaScript condition until true or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.evaluate(f"Boolean({expression})"):
                return True
            self._pump(0.2)
        return False

    def visit(self, url: str, settle: float = 0.5) -> PageVisit:
        """Load `url`, wait for its load event and for MathJax (if present), and report what happened."""
        self._events.clear()
        self.send("Page.navigate", url=url)
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > deadline:
                break
            self._pump(0.2)
        self.evaluate("window.MathJax && MathJax.startup && MathJax.startup.promise ? "
                      "MathJax.startup.promise.then(() => true) : true", await_promise=True)
        self._pump(settle)
        return self._summarise(url)

    def _summarise(self, url: str) -> PageVisit:
        visit = PageVisit(url=url, title=self.evaluate("document.title") or "")
        urls: dict[str, str] = {}
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent":
                urls[params["requestId"]] = params["request"]["url"]
                visit.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                visit.failed.append(f"{urls.get(params['requestId'], '?')} ({params.get('errorText')})")
            elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
                visit.failed.append(f"{params['response']['url']} (HTTP {params['response']['status']})")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = (details.get("exception") or {}).get("description") or details.get("text", "")
                visit.js_errors.append(text.splitlines()[0] if text else "exception")
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                visit.js_errors.append(f"console.error: {args[:200]}")
        return visit

    def screenshot(self, path: str | Path, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole page, up to 6000 px high, by default)."""
        height = min(int(self.evaluate("document.documentElement.scrollHeight") or 900), 6000) if full_page else 900
        # a window as tall as the page (captureBeyondViewport shifts the book's sticky layout sideways)
        self.send("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
        try:
            self._pump(0.3)
            data = self.send("Page.captureScreenshot", format="png")["data"]
        finally:
            self.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            if self._ws is not None:
                self._ws.close()
        finally:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
