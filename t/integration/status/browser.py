#!/usr/bin/env python3
"""Drives headless Chromium (Debian's `chromium`) over the DevTools protocol for the dashboard
tests, through --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-terminated JSON): no WebSocket
library, nothing beyond python3 and the browser.

  browser.py URL [--no-js] [--polls N] [--js JS] [--then CMD] [--until JS] [--timeout S]
             [--dom FILE] [--screenshot FILE] [--width W] [--height H] [--hold S]

Loads URL; with --polls waits until <body data-polls> reaches N (the page's own count of JSON
readings it applied); evaluates --js in the page (to note something for --until); runs --then (a shell command) and waits until the expression --until is
true in the page; after --hold seconds more, writes the DOM (outerHTML, read through the DOM
domain so it works with scripts disabled) and a PNG of the top of the page (W x H). Exits 0 when
every wait succeeded, 1 with the reason on stderr otherwise. The browser is killed on the way out.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="manifold-chromium-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def child_fds():
            # Through fresh numbers first: either end may already sit on 3 or 4.
            ends = [os.dup(to_chrome_r), os.dup(from_chrome_w)]
            for target, fd in zip((3, 4), ends):
                os.dup2(fd, target)
                os.set_inheritable(target, True)

        log = open(os.environ.get("BROWSER_LOG", os.devnull), "ab")
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise SystemExit("chromium not found (make deps installs it)")
        args = [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--mute-audio",
                "--hide-scrollbars", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height), "about:blank"]
        # os.pipe() fds are close-on-exec; only the dup2()ed 3 and 4 reach the browser.
        self.proc = subprocess.Popen(args, close_fds=False, preexec_fn=child_fds, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=log,
                                     start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.out = os.fdopen(to_chrome_w, "wb", buffering=0)
        self.inp = os.fdopen(from_chrome_r, "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _message(self):
        while b"\0" not in self.buffer:
            chunk = self.inp.read(1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        self.out.write(json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--no-js", action="store_true")
    p.add_argument("--polls", type=int, default=0)
    p.add_argument("--js")
    p.add_argument("--then")
    p.add_argument("--until")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--dom")
    p.add_argument("--screenshot")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=900)
    a = p.parse_args()

    b = Browser(a.width, a.height)
    try:
        targets = b.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        b.session = b.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                           session=False)["sessionId"]
        if a.no_js:
            b.call("Emulation.setScriptExecutionDisabled", {"value": True})
        b.call("Page.navigate", {"url": a.url})
        wait_for(lambda: b.evaluate("document.readyState") == "complete", a.timeout, "the page")
        if a.polls:
            wait_for(lambda: int(b.evaluate("document.body.dataset.polls || 0") or 0) >= a.polls,
                     a.timeout, "%d polls" % a.polls)
        if a.js:
            b.evaluate(a.js)
        if a.then:
            subprocess.run(a.then, shell=True, check=True)
        if a.until:
            wait_for(lambda: b.evaluate("!!(%s)" % a.until) is True, a.timeout, a.until)
        time.sleep(a.hold)
        if a.dom:
            root = b.call("DOM.getDocument", {"depth": -1})["root"]
            html = b.call("DOM.getOuterHTML", {"nodeId": root["nodeId"]})["outerHTML"]
            with open(a.dom, "w") as f:
                f.write(html)
        if a.screenshot:
            shot = b.call("Page.captureScreenshot", {"format": "png"})
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        return 0
    except (TimeoutError, RuntimeError, subprocess.CalledProcessError, StopIteration) as e:
        print("browser.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
