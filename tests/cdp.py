"""A small headless-Chromium driver over the DevTools protocol (websocket-client, no downloads).

`open_page(path)` loads a local HTML file with the network emulated offline and returns what
a reader's browser would have seen: console errors, exceptions, every request that left the
page, JavaScript dialogs (an `alert` from a planted script), elements with inline event
handlers, and a screenshot.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# one way to find the browser, shared with the report's PDF printing (tests import it from here)
from analysis.report_html import find_chromium  # noqa: F401

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1280,1600"]

# Runs before any script of the page: records whether anything tried to run or phone home.
PROBE = """
window.__probe = {alerts: 0, fetches: 0};
window.alert = function () { window.__probe.alerts += 1; };
window.prompt = window.confirm = window.alert;
const _fetch = window.fetch; window.fetch = function () { window.__probe.fetches += 1; return _fetch.apply(this, arguments); };
"""


@dataclass
class PageReport:
    url: str
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)        # every URL other than the page itself
    dialogs: list[str] = field(default_factory=list)
    probe: dict = field(default_factory=dict)
    inline_handlers: int = 0
    script_elements: int = 0
    text: str = ""
    screenshot: Path | None = None
    measures: dict = field(default_factory=dict)   # name -> value of each `measure` expression

    @property
    def problems(self) -> list[str]:
        out = [f"console error: {e}" for e in self.console_errors]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"network request: {r}" for r in self.requests]
        out += [f"dialog opened: {d}" for d in self.dialogs]
        if self.probe.get("alerts") or self.probe.get("fetches"):
            out.append(f"script ran: {self.probe}")
        if self.inline_handlers:
            out.append(f"{self.inline_handlers} element(s) with inline event handlers (onerror=...)")
        if self.script_elements:
            out.append(f"{self.script_elements} <script> element(s) in the page")
        return out


class Browser:
    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def open_page(self, html_file: Path, screenshot: Path | None = None, settle: float = 1.0,
                  width: int = 1280, height: int = 900, mobile: bool | None = None,
                  full_page: bool = False, measure: dict[str, str] | None = None) -> PageReport:
        """Load a page in a viewport of `width` x `height` CSS px (a phone when `mobile`, which
        defaults to width < 700), evaluate each `measure` JavaScript expression after load and
        take a screenshot of the viewport (or of the whole page when `full_page`)."""
        import websocket

        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(req, timeout=10).read())
        ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30,
                                         suppress_origin=True)
        url = Path(html_file).resolve().as_uri()
        report = PageReport(url=url)
        counter = iter(range(1, 10_000))

        def send(method, **params):
            msg_id = next(counter)
            ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
            while True:
                msg = json.loads(ws.recv())
                if msg.get("id") == msg_id:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})
                handle(msg)

        def handle(msg):
            method, params = msg.get("method"), msg.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                report.console_errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                                      for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                report.exceptions.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                report.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                u = params["request"]["url"]
                if u != url and not u.startswith(("data:", "about:")):
                    report.requests.append(u)
            elif method == "Page.javascriptDialogOpening":
                report.dialogs.append(params.get("message", ""))
                ws.send(json.dumps({"id": next(counter), "method": "Page.handleJavaScriptDialog",
                                    "params": {"accept": True}}))

        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                send(f"{domain}.enable")
            send("Network.emulateNetworkConditions", offline=True, latency=0,
                 downloadThroughput=0, uploadThroughput=0)
            send("Page.addScriptToEvaluateOnNewDocument", source=PROBE)
            phone = width < 700 if mobile is None else mobile
            send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                 deviceScaleFactor=1, mobile=phone)
            send("Page.navigate", url=url)
            deadline = time.monotonic() + 60
            loaded = False
            while time.monotonic() < deadline and not loaded:
                msg = json.loads(ws.recv())
                handle(msg)
                loaded = msg.get("method") == "Page.loadEventFired"
            end = time.monotonic() + settle
            ws.settimeout(0.2)
            while time.monotonic() < end:
                try:
                    handle(json.loads(ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
            ws.settimeout(30)

            def evaluate(expr):
                return send("Runtime.evaluate", expression=expr, returnByValue=True)["result"].get("value")

            report.probe = evaluate("window.__probe || {}") or {}
            report.inline_handlers = evaluate(
                "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
                ".some(a => a.name.startsWith('on'))).length")
            report.script_elements = evaluate("document.querySelectorAll('script').length")
            report.text = evaluate("document.body ? document.body.innerText : ''") or ""
            for name, expr in (measure or {}).items():
                report.measures[name] = evaluate(expr)
            if screenshot is not None:
                params = {"format": "png", "captureBeyondViewport": full_page}
                if full_page:
                    size = evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
                    params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": min(size[1], 16000), "scale": 1}
                shot = send("Page.captureScreenshot", **params)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                report.screenshot = screenshot
        finally:
            ws.close()
        return report
