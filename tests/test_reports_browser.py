"""The report and the site in a real browser: headless Chromium, driven over the DevTools protocol.

Chromium talks DevTools over a pipe (``--remote-debugging-pipe``: commands on fd 3, replies on fd 4, each JSON
message ending in a NUL byte), so no websocket client or driver download is needed. The test collects console
errors, uncaught exceptions and network requests, clicks table headers and reads the row order back.

Skipped (with the reason shown) only when no Chromium is installed: ``apt-get install -y chromium``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in (os.environ.get("BENCH_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium",
                             shutil.which("chromium-browser"), shutil.which("google-chrome")) if p and
                 Path(p).exists()), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                                             "(Debian: apt-get install -y chromium)")


class Browser:
    """Minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, profile: Path, timeout: float = 60.0):
        self.timeout = timeout
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def child_fds():  # Chromium expects the pipe on fds 3 (in) and 4 (out)
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if ready:
                chunk = os.read(self._out_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def open(self, url: str) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.send(f"{domain}.enable", session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired")
        return session

    def evaluate(self, session: str, expression: str):
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=session)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions, and requests leaving file:/data: URLs."""
        out = []
        for ev in self.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')} "
                           f"{p['exceptionDetails'].get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    out.append(f"network request: {url}")
        return out

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


# Click the header whose text is `name` in table `tableId`; return the column's sort keys (or texts) in row order.
CLICK = """
(() => {
  const t = document.getElementById(%(table)s);
  const ths = Array.from(t.tHead.rows[0].cells);
  const i = ths.findIndex(th => th.textContent.trim() === %(name)s);
  if (i < 0) { throw new Error("no column " + %(name)s); }
  ths[i].click();
  return {sort: ths[i].getAttribute("aria-sort"),
          values: Array.from(t.tBodies[0].rows).map(r => {
            const c = r.cells[i]; const v = c.getAttribute("data-sort");
            return v === null ? c.textContent.trim() : v; })};
})()
"""


def click(browser, session, table, name):
    return browser.evaluate(session, CLICK % {"table": json.dumps(table), "name": json.dumps(name)})


def _numbers_sorted(values, descending):
    nums = [float(v) for v in values if v != ""]
    assert all(v == "" for v in values[len(nums):]), "missing values must sort last"
    return nums == sorted(nums, reverse=descending)


@needs_chromium
def test_harness_catches_console_errors(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom'); undefinedFn();</script>"
                    "</body></html>")
    browser.open(page.as_uri())
    problems = browser.problems()
    assert any("boom" in p for p in problems) and any("undefinedFn" in p for p in problems)


@needs_chromium
def test_report_in_chromium(browser, tmp_path):
    from reports.html import build_report
    from tests.test_reports import make_small_run

    rd = make_small_run(tmp_path / "run")
    report = build_report(rd.path)
    session = browser.open(report.as_uri())
    assert browser.evaluate(session, "document.title") == "grn-bench report"
    # The XSS method name is shown as text and never ran.
    assert browser.evaluate(session, "typeof window.alert") == "function"
    assert browser.evaluate(session, "document.body.innerText.includes('<script>alert(1)</script>')")
    assert browser.evaluate(session, "document.querySelectorAll('script').length") == 1

    first = click(browser, session, "leaderboard-table", "AUPRC")  # metric columns sort descending first
    assert first["sort"] == "descending" and _numbers_sorted(first["values"], descending=True)
    second = click(browser, session, "leaderboard-table", "AUPRC")
    assert second["sort"] == "ascending" and _numbers_sorted(second["values"], descending=False)
    by_method = click(browser, session, "leaderboard-table", "method")
    expected = browser.evaluate(session, "JSON.parse(%s).sort((a, b) => a.localeCompare(b))"
                                % json.dumps(json.dumps(by_method["values"])))
    assert by_method["sort"] == "ascending" and by_method["values"] == expected
    # the verdict section: first, its tied-rank tables sort, its QC table is there
    assert browser.evaluate(session, "document.querySelector('main section').id") == "verdict"
    ranks = click(browser, session, "ranks-groundgan", "ratio pos")
    assert ranks["sort"] == "descending" and _numbers_sorted(ranks["values"], descending=True)
    assert browser.evaluate(session, "document.getElementById('qc-table').tBodies[0].rows.length") > 0
    # every embedded figure decoded
    assert browser.evaluate(session, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert browser.problems() == []


@needs_chromium
def test_site_in_chromium(browser, tmp_path):
    from reports.publish import publish
    from tests.test_reports import make_small_run

    rd = make_small_run(tmp_path / "run")
    index = publish([rd.path], tmp_path / "site", include_reports=False)
    session = browser.open(index.as_uri())
    res = click(browser, session, "summary-table", "AUPRC ratio")
    assert res["sort"] == "descending" and _numbers_sorted(res["values"], descending=True)
    assert browser.problems() == []
    page = next((tmp_path / "site" / "datasets").glob("*.html"))
    browser.events.clear()
    session = browser.open(page.as_uri())
    res = click(browser, session, "rows-table", "AUROC")
    assert _numbers_sorted(res["values"], descending=True)
    assert browser.evaluate(session, "document.body.innerText.includes('<script>alert(1)</script>')")
    assert browser.problems() == []
