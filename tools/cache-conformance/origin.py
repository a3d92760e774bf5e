"""A scriptable HTTP/1.1 origin for cache tests (stdlib only, one thread per connection).

Each URL path is programmed by the test before use, and every request to it is logged:

  POST /__setup   body JSON {"path": "/run/case", "responses": [SPEC, ...]}
                  request n (0-based, any method) to PATH is answered by SPEC[min(n, len-1)]
  GET  /__log?path=/run/case
                  JSON list of the requests PATH got: {"method", "headers" (lowercased), "t"}
  GET  /__count?path=/run/case
                  the number of requests PATH got (plain text)
  POST /__default body JSON {"responses": [SPEC, ...]}: how unprogrammed paths are answered

SPEC (every key optional):
  status        200
  headers       [[name, value], ...]; "{date:N}" in a value becomes the HTTP-date of now+N s
                (IMF-fixdate; {rfc850:N} and {asctime:N}: the obsolete forms)
  date          offset in seconds of the Date field from now (default 0); null = no Date field
  body          text (default "PATH #n", n = 1-based request number: tells responses apart)
  size          a body of this many bytes instead (repeated "PATH #n " text)
  conditional   {"status": 304, "headers": [...]}: answer a request carrying If-None-Match (equal
                to this SPEC's ETag, or "*") or If-Modified-Since with this instead (no body)
  ranges        true: answer a single "bytes=A-B" Range with 206 (else the Range is ignored)
  chunked       true: the body goes chunked (in two chunks) instead of with Content-Length
  delay         seconds to wait before answering
  abort         true: close the connection without answering

Every response but a 304 carries X-Seq: n (a 304 has none, so a cache that merges it keeps the
stored response's number). An unprogrammed path answers 200 "PATH #n" with max-age=0, unless
/__default said otherwise.
Used by tools/cache-conformance/run (in-process) and tools/bench/proxy (as a program: `origin.py
PORT_FILE` binds 127.0.0.1:0 and writes the port there; SIGTERM stops it).
"""

import email.utils
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.specs = {}  # path -> [spec]
        self.log = {}  # path -> [request record]
        self.default = [{"headers": [["Cache-Control", "max-age=0"]]}]

    def setup(self, path, responses):
        with self.lock:
            self.specs[path] = responses
            self.log.setdefault(path, [])

    def record(self, path, method, headers):
        with self.lock:
            entries = self.log.setdefault(path, [])
            entries.append({"method": method, "headers": headers, "t": time.time()})
            n = len(entries)
            specs = self.specs.get(path, self.default)
            spec = specs[min(n - 1, len(specs) - 1)] if specs else None
        return n, spec

    def requests(self, path):
        with self.lock:
            return list(self.log.get(path, []))


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


def rfc850_date(t):
    return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(t))


def asctime_date(t):
    tm = time.gmtime(t)
    return time.strftime("%a %b ", tm) + "%2d" % tm.tm_mday + time.strftime(" %H:%M:%S %Y", tm)


FORMATS = {"date": http_date, "rfc850": rfc850_date, "asctime": asctime_date}


def expand(value, now):
    return re.sub(r"\{(date|rfc850|asctime):([+-]?\d+)\}",
                  lambda m: FORMATS[m.group(1)](now + int(m.group(2))), value)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a head and a body written apart must not wait for an ACK
    store = None  # set by make_server

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return b""

    def _send(self, status, headers, body, head_only=False, chunked=False):
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if no_body or head_only:
            return
        if not chunked:
            self.wfile.write(body)
            return
        half = len(body) // 2
        for part in (body[:half], body[half:]):
            if part:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def _control(self, url, body):
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/__setup":
            spec = json.loads(body)
            self.store.setup(spec["path"], spec["responses"])
            return self._send(200, [("Content-Type", "text/plain")], b"ok")
        if url.path == "/__default":
            self.store.default = json.loads(body)["responses"]
            return self._send(200, [("Content-Type", "text/plain")], b"ok")
        path = query.get("path", [""])[0]
        if url.path == "/__log":
            out = json.dumps(self.store.requests(path)).encode()
            return self._send(200, [("Content-Type", "application/json")], out)
        if url.path == "/__count":
            return self._send(200, [], str(len(self.store.requests(path))).encode())
        return self._send(404, [], b"no such control")

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        if url.path.startswith("/__"):
            return self._control(url, body)
        headers = {k.lower(): v for k, v in self.headers.items()}
        n, spec = self.store.record(url.path, self.command, headers)
        if spec.get("delay"):
            time.sleep(spec["delay"])
        if spec.get("abort"):
            self.close_connection = True
            self.connection.shutdown(2)
            return
        now = time.time()
        status = spec.get("status", 200)
        fields = [(k, expand(v, now)) for k, v in spec.get("headers", [])]
        names = {k.lower() for k, _ in fields}
        if "date" not in names and spec.get("date", 0) is not None:
            fields.insert(0, ("Date", http_date(now + spec.get("date", 0))))
        fields.append(("X-Seq", str(n)))
        if "size" in spec:
            unit = ("%s #%d " % (url.path, n)).encode()
            data = (unit * (spec["size"] // len(unit) + 1))[: spec["size"]]
        else:
            data = spec.get("body", "%s #%d" % (url.path, n)).encode()
        cond = spec.get("conditional")
        if cond is not None and self._matches(headers, fields):
            extra = [(k, expand(v, now)) for k, v in cond.get("headers", [])]
            if not any(k.lower() == "date" for k, _ in extra):
                extra.insert(0, ("Date", http_date(now)))
            return self._send(cond.get("status", 304), extra, b"")
        if spec.get("ranges") and status == 200 and "range" in headers:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", headers["range"].strip())
            if m:
                first = int(m.group(1))
                last = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
                if first <= last:
                    fields.append(("Content-Range", "bytes %d-%d/%d" % (first, last, len(data))))
                    return self._send(206, fields, data[first : last + 1], self.command == "HEAD")
        self._send(status, fields, data, self.command == "HEAD", spec.get("chunked", False))

    @staticmethod
    def _matches(req, fields):
        etag = next((v for k, v in fields if k.lower() == "etag"), None)
        inm = req.get("if-none-match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or (etag is not None and etag in tags)
        return "if-modified-since" in req

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def __getattr__(self, name):  # any other method (e.g. an unknown one) is served the same way
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a peer closing is no news


def make_server(port=0):
    store = Store()
    handler = type("BoundHandler", (Handler,), {"store": store})
    server = Server(("127.0.0.1", port), handler)
    return server, store


def main():
    import signal

    server, _ = make_server(0)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
