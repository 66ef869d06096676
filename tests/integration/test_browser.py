#!/usr/bin/env python3
"""Browser test (#17): Debian's headless Chromium renders the dashboard of a running `gonogo
watch` and the HTML report, and the rendered DOM is asserted on: the banner's text, a firing
rule's chart with its threshold line, the report's summary before its phases (and the report
printed to PDF by the same Chromium), and no console message (the pages have no script, so any console line is a fault: a blocked asset, an error).

Needs the sandbox env (NATS_URL) and GONOGO_BIN; python3's standard library only."""
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

GONOGO = os.environ.get("GONOGO_BIN", "")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
failures = []
passes = 0


def check(cond, what, context=""):
    global passes
    if cond:
        passes += 1
    else:
        failures.append(what)
        print(f"FAIL: {what}\n{context[:3000]}", file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"# TYPE bt_errors gauge\nbt_errors 50\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


PLAN = """migration: browser-test
description: The dashboard and the report as a browser renders them
connect:
  nats: {{ servers: "${{NATS_URL}}" }}
  targets:
    svc: {{ metrics: "http://127.0.0.1:{port}/metrics" }}
phases:
  - id: 1
    name: Hold steady
    go:
      - {{ name: Always, expect: "1 == 1" }}
    actions:
      - wait: 1s
monitor:
  interval: 1s
  rules:
    - {{ name: Errors high, when: 'bt_errors{{target="svc"}} > 10', for: 1s, then: advise }}
    - {{ name: Quiet rule, when: 'bt_errors{{target="svc"}} > 1000', then: notify }}
"""


def chromium_dom(url, profile):
    """The DOM after rendering, and the console lines Chromium logged."""
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                        "--window-size=1280,900", "--dump-dom", url],
                       capture_output=True, text=True, timeout=90)
    console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l]
    return r.stdout, console


def gonogo(*args, **kw):
    return subprocess.run([GONOGO, *args], capture_output=True, text=True, timeout=120, **kw)


def main():
    if not GONOGO or not os.environ.get("NATS_URL"):
        print("test_browser needs GONOGO_BIN and the sandbox env (NATS_URL)", file=sys.stderr)
        return 1
    if not os.access(CHROMIUM, os.X_OK):
        print(f"test_browser needs chromium ({CHROMIUM}); scripts/install-deps installs it", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="gg-browser-")
    watcher = None
    metrics = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=metrics.serve_forever, daemon=True).start()
    try:
        plan = os.path.join(work, "plan.yaml")
        journal = os.path.join(work, "journal.db")
        with open(plan, "w") as f:
            f.write(PLAN.format(port=metrics.server_address[1]))
        r = gonogo("run", plan, "--phase", "1", "--yes", "--journal", journal)
        check(r.returncode == 0, "gonogo run phase 1 completes", r.stdout + r.stderr)

        port = free_port()
        log = open(os.path.join(work, "watch.log"), "w")
        watcher = subprocess.Popen([GONOGO, "watch", plan, "--journal", journal, "--listen",
                                    f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        firing, deadline = False, time.monotonic() + 30
        while not firing and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.5)
            try:
                state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=5))
                firing = any(x["name"] == "Errors high" and x["state"] == "firing" for x in state["rules"])
            except OSError:
                pass
        check(firing, "the rule fires within 30 s", open(os.path.join(work, "watch.log")).read())

        dom, console = chromium_dom(f"http://127.0.0.1:{port}/", os.path.join(work, "profile"))
        banner = re.search(r'<div id="banner" class="banner (\w+)"[^>]*>(.*?)</div>', dom, re.S)
        check(banner is not None, "the dashboard has a banner", dom)
        if banner:
            text = re.sub(r"<[^>]+>", "", banner.group(2))
            check(banner.group(1) == "warn", "the banner is amber (an advisory fires)", text)
            check("COMPLETED · phase 1 (Hold steady)" in text, "the banner names the state and the phase", text)
            check("FIRING: Errors high (advise)" in text, "the banner names the firing rule", text)
            check("next: decide: gonogo rollback" in text, "the banner gives the next step as a command", text)
            check(dom.index('id="banner"') < dom.index("<h1>"), "the banner comes first", dom)
        card = re.search(r'<div class="rule firing">(.*?)</svg>', dom, re.S)
        check(card is not None and "Errors high" in card.group(1), "the firing rule has a card", dom)
        if card:
            check('<svg class="chart"' in card.group(1), "the firing rule's chart is rendered", card.group(1))
            check('class="threshold"' in card.group(1), "the chart draws the threshold line", card.group(1))
        check('<svg class="timeline"' in dom, "the timeline is rendered", dom)
        check(re.search(r'<details id="other-rules">\s*<summary>1 other rules', dom) is not None,
              "the quiet rule is folded away", dom)
        check(console == [], "no console message on the dashboard", "\n".join(console))

        report = os.path.join(work, "report.html")
        r = gonogo("report", plan, "--journal", journal, "--format", "html", "-o", report)
        check(r.returncode == 0, "gonogo report --format html", r.stdout + r.stderr)
        dom, console = chromium_dom("file://" + report, os.path.join(work, "profile"))
        state = re.search(r'<p class="state (\w+)">(.*?)</p>', dom, re.S)
        check(state is not None and state.group(1) == "ok" and "COMPLETED" in state.group(2)
              and "phase 1 (Hold steady)" in state.group(2), "the report's summary states the migration's state",
              dom[:4000])
        check(0 <= dom.find('id="summary"') < dom.find("Phase 1: Hold steady"),
              "the executive summary comes before the phase", dom[:4000])
        check(dom.find("Appendix: full evidence") < dom.find("Lessons Learned (Post-Migration)"),
              "the report ends with the lessons learned", dom[-4000:])
        check(console == [], "no console message on the report", "\n".join(console))

        pdf = os.path.join(work, "report.pdf")
        r = gonogo("report", plan, "--journal", journal, "--format", "pdf", "-o", pdf)
        check(r.returncode == 0, "gonogo report --format pdf", r.stdout + r.stderr)
        with open(pdf, "rb") if os.path.exists(pdf) else open(os.devnull, "rb") as f:
            check(f.read(5) == b"%PDF-", "the PDF is a PDF", pdf)
    finally:
        if watcher is not None:
            watcher.terminate()
            try:
                watcher.wait(timeout=15)
            except subprocess.TimeoutExpired:
                watcher.kill()
        metrics.shutdown()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} for a look", file=sys.stderr)
    print(f"{passes} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
