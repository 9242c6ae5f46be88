#!/usr/bin/env python3
"""Self-test of the PyPE.Exec worker shim (src/Supervisor/Shim/pype_worker.py) against tests/TestApps/testapp.

Starts the shim with the given interpreter exactly as the host does (environment, stdin pipe, notify datagram
socket) and checks it over raw AF_UNIX sockets with hand-written HTTP bytes. Standard library only; the
script itself needs Python 3.7+, the interpreter under test may be any CPython 3.6+.

    python3 tests/TestApps/shim_selftest.py --python /root/.pyenv/versions/3.6.15/bin/python3
    python3 tests/TestApps/shim_selftest.py --python /usr/bin/python3 --bench [--bench-requests 20000]
    python3 tests/TestApps/shim_selftest.py --python ... --only sigterm,threads -v

Prints one "PASS name" / "FAIL name: why" line per check and exits 1 when any check failed.
"""

import argparse
import hashlib
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHIM = os.path.join(REPO, "src", "Supervisor", "Shim", "pype_worker.py")
APP_ROOT = HERE
WSGI = "testapp.app:application"
IO_TIMEOUT = 10.0


def pattern(size, offset=0):
    block = bytes(((i * 31 + 7) % 251) for i in range(251))
    start = offset % 251
    return (block * ((start + size) // 251 + 2))[start:start + size]


class CheckFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


# ---------------------------------------------------------------------------------------------------------
# Worker process
# ---------------------------------------------------------------------------------------------------------

class Worker(object):
    counter = 0

    def __init__(self, python, tmp, env=None, notify=True, wsgi=WSGI):
        Worker.counter += 1
        self.id = "selftest-%d" % Worker.counter
        self.tmp = tmp
        self.sock_path = os.path.join(tmp, "w%d.sock" % Worker.counter)
        self.log_path = os.path.join(tmp, "w%d.log" % Worker.counter)
        self.notify_path = os.path.join(tmp, "n%d.sock" % Worker.counter) if notify else None
        self.notify = None
        if notify:
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(self.notify_path)
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("PYPE_") or k.startswith("TESTAPP_"):
                del e[k]
        e.update({
            "PYPE_APP_ROOT": APP_ROOT,
            "PYPE_WSGI": wsgi,
            "PYPE_SOCKET": self.sock_path,
            "PYPE_WORKER_ID": self.id,
            "PYPE_ENVIRONMENT": "TEST",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        if notify:
            e["PYPE_NOTIFY_SOCKET"] = self.notify_path
        e.update(env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([python, "-u", SHIM], cwd=APP_ROOT, env=e, stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    def wait_notify(self, timeout=20.0):
        """The first datagram as a dict (ERROR holds everything after 'ERROR=')."""
        self.notify.settimeout(timeout)
        try:
            data = self.notify.recv(1 << 20)
        except socket.timeout:
            raise CheckFailed("no notification within %.0f s; log: %s" % (timeout, self.log_tail()))
        text = data.decode("utf-8")
        msg = {}
        rest = text
        while rest:
            line, _, after = rest.partition("\n")
            if line.startswith("ERROR="):
                msg["ERROR"] = rest[6:]
                break
            k, _, v = line.partition("=")
            msg[k] = v
            rest = after
        return msg

    def wait_ready(self, timeout=20.0):
        if self.notify is None:
            deadline = time.monotonic() + timeout
            # The file appears at bind(), before listen(): wait until a connection is actually accepted.
            while True:
                check(self.proc.poll() is None, "worker exited with %s" % self.proc.returncode)
                check(time.monotonic() < deadline, "socket did not start accepting")
                if os.path.exists(self.sock_path):
                    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        probe.connect(self.sock_path)
                        return {}
                    except OSError:
                        pass
                    finally:
                        probe.close()
                time.sleep(0.02)
        msg = self.wait_notify(timeout)
        check(msg.get("READY") == "1", "expected READY=1, got %r; log: %s" % (msg, self.log_tail()))
        check(msg.get("WORKER") == self.id, "WORKER=%r, expected %r" % (msg.get("WORKER"), self.id))
        check(msg.get("PID") == str(self.pid), "PID=%r, expected %d" % (msg.get("PID"), self.pid))
        return msg

    def connect(self):
        return Client(self.sock_path)

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def log_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n=1500):
        return self.log_text()[-n:]

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
        except OSError:
            pass
        self.log.close()
        if self.notify is not None:
            self.notify.close()


# ---------------------------------------------------------------------------------------------------------
# Raw HTTP client
# ---------------------------------------------------------------------------------------------------------

class Response(object):
    def __init__(self, status, reason, headers, body, chunked, chunks):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.chunked = chunked
        self.chunks = chunks

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %s %r %r>" % (self.status, self.reason, self.headers, self.body[:200])


class Client(object):
    def __init__(self, path, timeout=IO_TIMEOUT):
        # A socket path, or a (host, port) pair for the shim's tcp: mode.
        self.sock = socket.socket(socket.AF_INET if isinstance(path, tuple) else socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, target, headers=None, body=None, version="HTTP/1.1", host="worker.test"):
        lines = ["%s %s %s" % (method, target, version)]
        if host is not None:
            lines.append("Host: %s" % host)
        for k, v in (headers or []):
            lines.append("%s: %s" % (k, v))
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers or []):
            lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        self.send(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the worker")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = self.buf[:i]
                self.buf = self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = self.buf[:n]
        self.buf = self.buf[n:]
        return data

    def read_head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            self._fill()
        head = self.buf[:i].decode("latin-1")
        self.buf = self.buf[i + 4:]
        lines = head.split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip().lower(), v.strip()))
        return version, int(status), reason, headers

    def read_response(self, head_request=False):
        version, status, reason, headers = self.read_head()
        while 100 <= status < 200 and status != 101:
            version, status, reason, headers = self.read_head()
        r = Response(status, reason, headers, b"", False, [])
        if head_request or status in (204, 304) or status < 200:
            return r
        te = r.header("transfer-encoding")
        cl = r.header("content-length")
        if te is not None:
            check(te.lower() == "chunked", "unexpected Transfer-Encoding %r" % te)
            r.chunked = True
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                parts.append(self._exact(size))
                check(self._exact(2) == b"\r\n", "chunk not followed by CRLF")
            r.chunks = parts
            r.body = b"".join(parts)
        elif cl is not None:
            r.body = self._exact(int(cl))
        else:
            parts = [self.buf]
            self.buf = b""
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                parts.append(data)
            r.body = b"".join(parts)
        return r

    def get(self, target, headers=None, **kw):
        self.request("GET", target, headers, **kw)
        return self.read_response()

    def at_eof(self, timeout=3.0):
        """True when the worker closed the connection (no more bytes, EOF) within timeout."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(IO_TIMEOUT)
        return data == b""


def one(worker, target, headers=None, method="GET", body=None, host="worker.test"):
    c = worker.connect()
    try:
        c.request(method, target, headers, body, host=host)
        return c.read_response(head_request=method == "HEAD")
    finally:
        c.close()


def healthy(worker):
    r = one(worker, "/health")
    check(r.status == 200 and r.body == b"ok", "/health answered %r" % r)
    check(worker.alive(), "worker died")


# ---------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------

class Suite(object):
    def __init__(self, python, verbose=False):
        self.python = python
        self.verbose = verbose
        self.tmp = tempfile.mkdtemp(prefix="pype-selftest-")
        self.workers = []
        self.failed = []
        self.passed = 0
        self._main = None

    def spawn(self, env=None, notify=True, wsgi=WSGI, ready=True):
        w = Worker(self.python, self.tmp, env, notify, wsgi)
        self.workers.append(w)
        if ready:
            w.wait_ready()
        return w

    @property
    def main(self):
        if self._main is None or not self._main.alive():
            self._main = self.spawn()
        return self._main

    def run(self, names=None):
        checks = [(n[6:], getattr(self, n)) for n in sorted(dir(self), key=self._order) if n.startswith("check_")]
        for name, fn in checks:
            if names and name not in names:
                continue
            t0 = time.monotonic()
            try:
                fn()
            except Exception as e:
                detail = "%s: %s" % (type(e).__name__, e) if not isinstance(e, CheckFailed) else str(e)
                if self.verbose and not isinstance(e, CheckFailed):
                    detail += "\n" + traceback.format_exc()
                print("FAIL %s: %s" % (name, detail))
                self.failed.append(name)
            else:
                self.passed += 1
                print("PASS %s (%.0f ms)" % (name, (time.monotonic() - t0) * 1000))
            sys.stdout.flush()

    ORDER = ["ready", "socket_mode", "tcp_mode", "keepalive", "two_connections", "pipelining", "content_length_body",
             "chunked_body", "expect_continue", "large_body", "garbage", "limits", "smuggling", "reset", "half_close",
             "exception", "exc_info", "write", "stream", "stream_disconnect", "file", "head", "no_body_status",
             "headers", "http10", "connection_close", "environ", "gc_freeze", "script_name", "forwarded", "underscore_header",
             "duplicate_headers", "crash_on_start", "bad_callable", "no_notify_socket", "sigterm",
             "sigterm_ignored_by_app", "sigusr1", "stdin_eof", "crash_mid_request", "threads"]

    def _order(self, name):
        short = name[6:]
        return self.ORDER.index(short) if short in self.ORDER else len(self.ORDER)

    def cleanup(self):
        for w in self.workers:
            w.stop()
        for f in os.listdir(self.tmp):
            try:
                os.unlink(os.path.join(self.tmp, f))
            except OSError:
                pass
        try:
            os.rmdir(self.tmp)
        except OSError:
            pass

    # -- start-up --------------------------------------------------------------------------------------

    def check_ready(self):
        w = self.main
        check(w.alive(), "worker not alive")
        healthy(w)

    def check_tcp_mode(self):
        # PYPE_SOCKET=tcp:HOST:PORT serves TCP (for measuring a worker on its own); two workers may share the port.
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        first = self.spawn(env={"PYPE_SOCKET": "tcp:127.0.0.1:%d" % port})
        second = self.spawn(env={"PYPE_SOCKET": "tcp:127.0.0.1:%d" % port})
        pids = set()
        for _ in range(20):
            c = Client(("127.0.0.1", port))
            try:
                for i in range(2):
                    r = c.get("/pid")
                    check(r.status == 200, "request %d over TCP: %r" % (i, r))
                    pids.add(r.body.decode())
                # No host and no ticket table beside a TCP worker: a client's ticket header is ignored, not obeyed.
                r = c.get("/pid", headers=[("X-PyPE-Ticket", "0:1")])
                check(r.status == 200, "a request with a client's ticket header over TCP: %r" % (r,))
            finally:
                c.close()
        # Both bound the port (the second one's readiness shows SO_REUSEPORT); here: nobody else answered.
        check(pids <= {str(first.pid), str(second.pid)}, "answered by %r, expected only the two workers" % pids)
        for w in (first, second):
            os.kill(w.pid, signal.SIGTERM)
            code, log = w.wait_exit(10), w.log_tail()
            w.stop()
            check(code == 0, "TCP worker exited with %s after SIGTERM; log: %s" % (code, log))
        stray = [f for f in os.listdir(APP_ROOT) if f.startswith("tcp:")]
        check(not stray, "a tcp: address was taken for a file: %r" % stray)

    def check_socket_mode(self):
        mode = stat.S_IMODE(os.stat(self.main.sock_path).st_mode)
        check(mode == 0o600, "socket mode is %o, expected 600" % mode)

    # -- connections -----------------------------------------------------------------------------------

    def check_keepalive(self):
        c = self.main.connect()
        try:
            pids = set()
            for i in range(3):
                r = c.get("/pid")
                check(r.status == 200, "request %d: %r" % (i, r))
                check(r.header("connection") is None, "unexpected Connection header %r" % r.header("connection"))
                pids.add(r.body)
            check(pids == {str(self.main.pid).encode()}, "pids %r" % pids)
        finally:
            c.close()

    def check_two_connections(self):
        w = self.main
        idle = w.connect()
        partial = w.connect()
        other = w.connect()
        try:
            idle.get("/health")  # first connection now idle (keep-alive)
            partial.send(b"GET /echo HTTP/1.1\r\nHost: x\r\n")  # half a request head
            r = other.get("/health")
            check(r.status == 200, "second connection answered %r" % r)
            r = idle.get("/health")
            check(r.status == 200, "idle connection answered %r" % r)
            partial.send(b"X-Late: yes\r\n\r\n")
            r = partial.read_response()
            check(r.status == 200 and r.json()["headers"].get("HTTP_X_LATE") == "yes", "partial head: %r" % r)
        finally:
            idle.close()
            partial.close()
            other.close()

    def check_pipelining(self):
        c = self.main.connect()
        try:
            c.send(b"GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"POST /echo?n=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                   b"GET /echo?n=3 HTTP/1.1\r\nHost: x\r\n\r\n")
            for n in (1, 2, 3):
                r = c.read_response()
                j = r.json()
                check(j["QUERY_STRING"] == "n=%d" % n, "response %d out of order: %r" % (n, j["QUERY_STRING"]))
                if n == 2:
                    check(j["body_length"] == 5, "pipelined body length %r" % j["body_length"])
        finally:
            c.close()

    def check_content_length_body(self):
        body = os.urandom(100000)
        c = self.main.connect()
        try:
            c.request("POST", "/echo", [("Content-Type", "application/octet-stream")], body)
            j = c.read_response().json()
            check(j["body_length"] == len(body), "length %r" % j["body_length"])
            check(j["body_sha256"] == hashlib.sha256(body).hexdigest(), "sha mismatch")
            check(j["CONTENT_LENGTH"] == str(len(body)), "CONTENT_LENGTH %r" % j["CONTENT_LENGTH"])
            check(j["CONTENT_TYPE"] == "application/octet-stream", "CONTENT_TYPE %r" % j["CONTENT_TYPE"])
            # a body sent in several pieces
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
            time.sleep(0.05)
            c.send(b"56789")
            j = c.read_response().json()
            check(j["body_sha256"] == hashlib.sha256(b"0123456789").hexdigest(), "split body sha mismatch")
            # no body: CONTENT_LENGTH absent
            j = c.get("/echo").json()
            check(j["CONTENT_LENGTH"] is None, "CONTENT_LENGTH present without a body: %r" % j["CONTENT_LENGTH"])
        finally:
            c.close()

    def check_chunked_body(self):
        pieces = [b"hello ", os.urandom(70000), b"", b"world"]
        body = b"".join(pieces)
        wire = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\nX-Trailer: t\r\n\r\n"
        c = self.main.connect()
        try:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(wire), 7000):  # dribble it in
                c.send(wire[i:i + 7000])
            j = c.read_response().json()
            check(j["body_length"] == len(body), "length %r, expected %d" % (j["body_length"], len(body)))
            check(j["body_sha256"] == hashlib.sha256(body).hexdigest(), "sha mismatch")
            r = c.get("/health")
            check(r.status == 200, "connection unusable after a chunked body: %r" % r)
        finally:
            c.close()

    def check_expect_continue(self):
        c = self.main.connect()
        try:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            version, status, reason, headers = c.read_head()
            check(status == 100, "expected 100 Continue, got %d" % status)
            c.send(b"abcd")
            r = c.read_response()
            check(r.status == 200 and r.json()["body_length"] == 4, "after 100: %r" % r)
        finally:
            c.close()

    def check_large_body(self):
        body = os.urandom(8 * 1024 * 1024)
        c = self.main.connect()
        try:
            c.request("PUT", "/echo", None, body)
            j = c.read_response().json()
            check(j["body_sha256"] == hashlib.sha256(body).hexdigest(), "sha mismatch on 8 MiB body")
        finally:
            c.close()

    def check_garbage(self):
        w = self.main
        c = w.connect()
        try:
            c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nTHIS IS NOT HTTP\r\n\r\n")
            r = c.read_response()
            check(r.status == 200, "valid request before garbage: %r" % r)
            r = c.read_response()
            check(r.status == 400, "garbage answered %r" % r)
            check(c.at_eof(), "connection not closed after 400")
        finally:
            c.close()
        for junk in (b"\x00\x01\x02\xff\r\n\r\n", b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                     b"GET / HTTP/1.1\r\n Folded: x\r\n\r\n", b"GET / SPDY/3\r\n\r\n",
                     b"GET /a b HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                     b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                     b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
            c = w.connect()
            try:
                c.send(junk)
                r = c.read_response()
                check(r.status == 400, "%r answered %r" % (junk, r))
            finally:
                c.close()
        c = w.connect()
        try:
            c.send(b"GET / HTTP/2.0\r\n\r\n")
            check(c.read_response().status == 505, "HTTP/2.0 not answered 505")
        finally:
            c.close()
        healthy(w)

    def check_limits(self):
        w = self.main
        cases = [
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            (b"GET /" + b"a" * 9000, 414),  # no line end yet
            (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\nX-Big: " + b"v" * 9000, 431),
        ]
        for data, expected in cases:
            c = w.connect()
            try:
                c.send(data)
                r = c.read_response()
                check(r.status == expected, "%r...: %d, expected %d" % (data[:30], r.status, expected))
            finally:
                c.close()
        # exactly at the limits is fine
        r = one(w, "/echo", [("X-H%d" % i, "v") for i in range(98)])
        check(r.status == 200, "98 headers + Host: %r" % r)
        healthy(w)

    def check_smuggling(self):
        c = self.main.connect()
        try:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"0\r\n\r\n")
            r = c.read_response()
            check(r.status == 400, "CL + TE answered %r" % r)
        finally:
            c.close()
        c = self.main.connect()
        try:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
            check(c.read_response().status == 400, "conflicting Content-Length accepted")
        finally:
            c.close()
        healthy(self.main)

    def check_reset(self):
        w = self.main
        for data in (b"GET /echo HTTP/1.1\r\nHost: x\r\n", b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", b""):
            c = w.connect()
            if data:
                c.send(data)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        time.sleep(0.1)
        healthy(w)

    def check_half_close(self):
        c = self.main.connect()
        try:
            c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            c.sock.shutdown(socket.SHUT_WR)
            r = c.read_response()
            check(r.status == 200 and r.body == b"ok", "half-closed connection answered %r" % r)
            check(c.at_eof(), "connection not closed after the client's FIN")
        finally:
            c.close()
        healthy(self.main)

    # -- responses -------------------------------------------------------------------------------------

    def check_exception(self):
        w = self.main
        c = w.connect()
        try:
            r = c.get("/exception")
            check(r.status == 500, "expected 500, got %r" % r)
            check(r.body == b"Internal Server Error", "body %r" % r.body)
            check(r.header("content-type") == "text/plain", "content-type %r" % r.header("content-type"))
            r = c.get("/health")
            check(r.status == 200, "connection unusable after 500: %r" % r)
        finally:
            c.close()
        deadline = time.monotonic() + 3
        while True:
            log = w.log_text()
            if "testapp /exception raised on purpose" in log:
                break
            check(time.monotonic() < deadline, "traceback not logged; log: %s" % log[-800:])
            time.sleep(0.05)
        check(w.id in log and "GET /exception" in log and "Traceback" in log, "log lacks worker id/request line")

    def check_exc_info(self):
        r = one(self.main, "/exc-info")
        check(r.status == 500, "status %r" % r.status)
        check(r.body == b"app-supplied error page", "body %r" % r.body)
        check(r.header("x-exc-info") == "1", "the app's headers were not used")

    def check_write(self):
        c = self.main.connect()
        try:
            r = c.get("/write")
            check(r.status == 200, "%r" % r)
            check(r.body == b"written-by-write-then-iterable", "body %r" % r.body)
            r = c.get("/health")
            check(r.status == 200, "connection unusable after write(): %r" % r)
        finally:
            c.close()

    def stats(self, w):
        return one(w, "/stats").json()

    def check_stream(self):
        w = self.main
        before = self.stats(w)["closes"]
        c = w.connect()
        try:
            t0 = time.monotonic()
            c.request("GET", "/stream?chunks=5&size=1000&delay_ms=100")
            version, status, reason, headers = c.read_head()
            first = time.monotonic() - t0
            check(status == 200, "status %d" % status)
            check(dict(headers).get("transfer-encoding") == "chunked", "not chunked: %r" % headers)
            check(first < 0.35, "head arrived after %.0f ms: not streamed" % (first * 1000))
            parts = []
            while True:
                size = int(c._line(), 16)
                if size == 0:
                    c._line()
                    break
                parts.append(c._exact(size))
                c._exact(2)
            body = b"".join(parts)
            check(body == pattern(5000), "stream content mismatch (%d bytes)" % len(body))
            check(len(parts) == 5, "%d chunks, expected 5" % len(parts))
            r = c.get("/health")
            check(r.status == 200, "connection unusable after a stream")
        finally:
            c.close()
        after = self.stats(w)["closes"]
        check(after == before + 1, "close() called %d times" % (after - before))

    def check_stream_disconnect(self):
        w = self.main
        before = self.stats(w)["closes"]
        c = w.connect()
        c.request("GET", "/stream?chunks=50&size=200000&delay_ms=10")
        c.read_head()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        deadline = time.monotonic() + 5
        while self.stats(w)["closes"] != before + 1:
            check(time.monotonic() < deadline, "close() not called after the client went away")
            time.sleep(0.05)
        healthy(w)

    def check_file(self):
        c = self.main.connect()
        try:
            for size in (300000, 0, 1):
                r = c.get("/file?size=%d" % size)
                check(r.status == 200, "%r" % r)
                check(r.header("content-length") == str(size), "content-length %r" % r.header("content-length"))
                check(r.body == pattern(size), "file content mismatch (%d bytes)" % len(r.body))
        finally:
            c.close()

    def check_head(self):
        c = self.main.connect()
        try:
            for target in ("/echo", "/stream?chunks=3&size=10", "/file?size=5000", "/write"):
                c.request("HEAD", target)
                r = c.read_response(head_request=True)
                check(r.status == 200, "HEAD %s: %r" % (target, r))
                r = c.get("/health")  # a stray body would corrupt this response
                check(r.status == 200 and r.body == b"ok", "after HEAD %s: %r" % (target, r))
            c.request("HEAD", "/file?size=5000")
            r = c.read_response(head_request=True)
            check(r.header("content-length") == "5000", "HEAD lost Content-Length: %r" % r.headers)
            c.get("/health")
        finally:
            c.close()

    def check_no_body_status(self):
        c = self.main.connect()
        try:
            for code in (204, 304):
                r = c.get("/status/%d" % code)
                check(r.status == code, "%r" % r)
                check(r.header("transfer-encoding") is None, "%d with Transfer-Encoding" % code)
                r = c.get("/health")
                check(r.body == b"ok", "after %d: %r" % (code, r))
            r = c.get("/status/418")
            check(r.status == 418 and r.body == b"status 418", "%r" % r)
        finally:
            c.close()

    def check_headers(self):
        r = one(self.main, "/headers")
        check(len(r.all("set-cookie")) == 3, "Set-Cookie: %r" % r.all("set-cookie"))
        check(r.header("x-test-19") == "value-19", "%r" % r.headers)
        check(r.header("server") is None, "Server header sent")

    def check_http10(self):
        w = self.main
        c = w.connect()
        try:
            c.request("GET", "/health", version="HTTP/1.0", host=None)
            r = c.read_response()
            check(r.status == 200 and r.header("connection", "").lower() == "close", "%r" % r)
            check(c.at_eof(), "HTTP/1.0 connection not closed")
        finally:
            c.close()
        c = w.connect()
        try:
            c.request("GET", "/health", [("Connection", "keep-alive")], version="HTTP/1.0")
            r = c.read_response()
            check(r.header("connection", "").lower() == "keep-alive", "%r" % r)
            c.request("GET", "/stream?chunks=2&size=10", [("Connection", "keep-alive")], version="HTTP/1.0")
            r = c.read_response()  # no length: read to EOF
            check(r.body == pattern(20) and not r.chunked, "HTTP/1.0 stream: %r" % r)
        finally:
            c.close()

    def check_connection_close(self):
        c = self.main.connect()
        try:
            r = c.get("/health", [("Connection", "close")])
            check(r.header("connection", "").lower() == "close", "%r" % r)
            check(c.at_eof(), "connection not closed after Connection: close")
        finally:
            c.close()

    def check_environ(self):
        r = one(self.main, "/e%63ho?a=1&b=%20", [("Content-Type", "text/x-test")])
        j = r.json()
        check(r.header("content-type") == "application/json", "content-type %r" % r.header("content-type"))
        check(j["PATH_INFO"] == "/echo", "PATH_INFO %r" % j["PATH_INFO"])
        check(j["SCRIPT_NAME"] == "", "SCRIPT_NAME %r" % j["SCRIPT_NAME"])
        check(j["QUERY_STRING"] == "a=1&b=%20", "QUERY_STRING %r" % j["QUERY_STRING"])
        check(j["REQUEST_URI"] == "/e%63ho?a=1&b=%20" == j["RAW_URI"], "REQUEST_URI %r" % j["REQUEST_URI"])
        check(j["SERVER_PROTOCOL"] == "HTTP/1.1", "SERVER_PROTOCOL %r" % j["SERVER_PROTOCOL"])
        check(j["SERVER_NAME"] == "worker.test" and j["SERVER_PORT"] == "80", "server %r" % [j["SERVER_NAME"], j["SERVER_PORT"]])
        check(j["wsgi.url_scheme"] == "http", "scheme %r" % j["wsgi.url_scheme"])
        check(j["REMOTE_ADDR"] == "127.0.0.1", "REMOTE_ADDR %r" % j["REMOTE_ADDR"])
        check(j["wsgi.version"] == [1, 0] and j["wsgi.multiprocess"] is True and j["wsgi.run_once"] is False
              and j["wsgi.multithread"] is False and j["wsgi.input_terminated"] is True and j["has_file_wrapper"],
              "wsgi.* %r" % j)
        check(j["pype.worker_id"] == self.main.id and j["pype.environment"] == "TEST", "pype.* %r" % j)
        # PEP 3333 bytes-as-str: UTF-8 "é" percent-encoded arrives as latin-1 decoded bytes
        r = one(self.main, "/%C3%A9")
        check(r.status == 404 and r.body.decode("utf-8") == "not found: /\u00c3\u00a9", "non-ASCII path: %r" % r)
        # absolute-form target
        j = one(self.main, "http://other.test/echo?x=1").json()
        check(j["PATH_INFO"] == "/echo" and j["QUERY_STRING"] == "x=1", "absolute-form: %r" % j["PATH_INFO"])

    def check_gc_freeze(self):
        # The app's import-time objects are frozen out of full collections (Python 3.7+ has gc.freeze).
        j = one(self.main, "/echo").json()
        if tuple(int(n) for n in j["python"].split(".")[:2]) >= (3, 7):
            check(j["gc_frozen"] and j["gc_frozen"] > 1000, "objects frozen after the app loaded: %r" % j["gc_frozen"])
        else:
            check(j["gc_frozen"] is None, "no gc.freeze on %s: %r" % (j["python"], j["gc_frozen"]))

    def check_script_name(self):
        w = self.spawn({"PYPE_SCRIPT_NAME": "/apps/x"})
        j = one(w, "/apps/x/echo?q=1").json()
        check(j["SCRIPT_NAME"] == "/apps/x" and j["PATH_INFO"] == "/echo", "split %r" % [j["SCRIPT_NAME"], j["PATH_INFO"]])
        r = one(w, "/apps/x")
        check(r.status == 404 and r.body == b"not found: ", "/apps/x: %r" % r)
        r = one(w, "/apps/xyz")
        check(r.status == 404 and r.body == b"not found: /apps/xyz", "/apps/xyz: %r" % r)
        r = one(w, "/apps/x/")
        check(r.body == b"not found: /", "/apps/x/: %r" % r)

    def check_forwarded(self):
        j = one(self.main, "/echo", [("X-Forwarded-For", " 203.0.113.9 , 10.0.0.1"), ("X-Forwarded-Proto", "https"),
                                     ("X-Forwarded-Host", "public.example")], host="public.example").json()
        check(j["REMOTE_ADDR"] == "203.0.113.9", "REMOTE_ADDR %r" % j["REMOTE_ADDR"])
        check(j["wsgi.url_scheme"] == "https", "scheme %r" % j["wsgi.url_scheme"])
        check(j["SERVER_NAME"] == "public.example" and j["SERVER_PORT"] == "443", "server %r" % [j["SERVER_NAME"], j["SERVER_PORT"]])
        j = one(self.main, "/echo", [("X-Forwarded-Proto", "gopher")], host="[::1]:8443").json()
        check(j["wsgi.url_scheme"] == "http", "bad proto accepted: %r" % j["wsgi.url_scheme"])
        check(j["SERVER_NAME"] == "[::1]" and j["SERVER_PORT"] == "8443", "IPv6 host %r" % [j["SERVER_NAME"], j["SERVER_PORT"]])
        j = one(self.main, "/echo", host="h.example:8080").json()
        check(j["SERVER_NAME"] == "h.example" and j["SERVER_PORT"] == "8080", "host:port %r" % [j["SERVER_NAME"], j["SERVER_PORT"]])

    def check_underscore_header(self):
        j = one(self.main, "/echo", [("X_Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.7"),
                                     ("X_Custom", "spoof")]).json()
        check(j["REMOTE_ADDR"] == "198.51.100.7", "REMOTE_ADDR %r" % j["REMOTE_ADDR"])
        check(j["headers"].get("HTTP_X_FORWARDED_FOR") == "198.51.100.7", "%r" % j["headers"])
        check("HTTP_X_CUSTOM" not in j["headers"], "underscore header passed: %r" % j["headers"])

    def check_duplicate_headers(self):
        j = one(self.main, "/echo", [("X-Dup", "a"), ("x-dup", "b"), ("Accept", "text/html"),
                                     ("Accept", "application/json")]).json()
        check(j["headers"].get("HTTP_X_DUP") == "a,b", "X-Dup %r" % j["headers"].get("HTTP_X_DUP"))
        check(j["headers"].get("HTTP_ACCEPT") == "text/html,application/json", "Accept %r" % j["headers"].get("HTTP_ACCEPT"))

    # -- start-up failures -----------------------------------------------------------------------------

    def check_crash_on_start(self):
        w = self.spawn({"TESTAPP_CRASH_ON_START": "1"}, ready=False)
        msg = w.wait_notify()
        check(msg.get("FAILED") == "1", "expected FAILED=1: %r" % msg)
        check(msg.get("WORKER") == w.id and msg.get("PID") == str(w.pid), "WORKER/PID: %r" % msg)
        err = msg.get("ERROR", "")
        check("RuntimeError" in err and "testapp configured to crash on start" in err and "Traceback" in err,
              "ERROR %r" % err[:500])
        code = w.wait_exit(10)
        check(code == 3, "exit code %r, expected 3" % code)
        check("RuntimeError" in w.log_text(), "traceback not on stderr")

    def check_bad_callable(self):
        for wsgi, words in (("testapp.app:nonexistent", "no attribute"), ("testapp.app:json", "not callable"),
                            ("testapp.nomodule:application", "ModuleNotFoundError" if self._py36() is False else "No module")):
            w = self.spawn(wsgi=wsgi, ready=False)
            msg = w.wait_notify()
            check(msg.get("FAILED") == "1" and words in msg.get("ERROR", ""), "%s: %r" % (wsgi, msg))
            code = w.wait_exit(10)
            check(code == 3, "%s: exit code %r" % (wsgi, code))

    def _py36(self):
        out = subprocess.check_output([self.python, "-c", "import sys; print(sys.version_info[:2] == (3, 6))"])
        return out.strip() == b"True"

    def check_no_notify_socket(self):
        w = self.spawn(notify=False, ready=False)
        w.wait_ready()
        healthy(w)

    # -- signals and parent death ----------------------------------------------------------------------

    def check_sigterm(self):
        w = self.spawn()
        idle = w.connect()
        idle.get("/health")
        c = w.connect()
        try:
            t0 = time.monotonic()
            c.request("GET", "/slow?ms=1000")
            time.sleep(0.25)
            os.kill(w.pid, signal.SIGTERM)
            time.sleep(0.2)
            check(not os.path.exists(w.sock_path), "socket file still there after SIGTERM")
            try:
                w.connect()
                check(False, "a new connection was accepted after SIGTERM")
            except OSError:
                pass
            r = c.read_response()
            check(r.status == 200 and r.json()["slept_ms"] == 1000, "in-flight request: %r" % r)
            check(r.header("connection", "").lower() == "close", "no Connection: close on the last response")
            check(c.at_eof(1.0), "connection not closed after the last response")
            check(idle.at_eof(1.0), "idle connection not closed on SIGTERM")
            code = w.wait_exit(5)
            check(code == 0, "exit code %r, expected 0; log: %s" % (code, w.log_tail()))
            check(time.monotonic() - t0 < 3, "took too long to stop")
        finally:
            c.close()
            idle.close()

    def check_sigterm_ignored_by_app(self):
        w = self.spawn({"TESTAPP_IGNORE_SIGTERM": "1"})
        os.kill(w.pid, signal.SIGTERM)
        time.sleep(0.5)
        check(w.alive(), "worker stopped although the app ignores SIGTERM")
        healthy(w)

    def check_sigusr1(self):
        w = self.main
        c = w.connect()
        try:
            c.request("GET", "/slow?ms=400")
            time.sleep(0.15)
            os.kill(w.pid, signal.SIGUSR1)
            r = c.read_response()
            check(r.status == 200, "request during SIGUSR1: %r" % r)
        finally:
            c.close()
        deadline = time.monotonic() + 3
        while True:
            log = w.log_text()
            if "File " in log and ("Thread" in log or "Current thread" in log):
                break
            check(time.monotonic() < deadline, "no stack dump on stderr: %s" % log[-500:])
            time.sleep(0.05)
        check("time.sleep" in log or "app.py" in log, "dump does not show the app frame")
        healthy(w)

    def check_stdin_eof(self):
        w = self.spawn()
        # a grandchild in the worker's process group must die with it
        child = subprocess.Popen(["sleep", "60"], preexec_fn=lambda: os.setpgid(0, w.pid))
        try:
            check(os.getpgid(child.pid) == w.pid, "helper not in the worker's group")
            w.proc.stdin.close()
            deadline = time.monotonic() + 3
            while w.alive() or child.poll() is None:
                check(time.monotonic() < deadline, "worker alive=%s helper alive=%s 3 s after stdin EOF"
                      % (w.alive(), child.poll() is None))
                time.sleep(0.05)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()

    def check_crash_mid_request(self):
        w = self.spawn()
        c = w.connect()
        try:
            c.request("GET", "/crash")
            try:
                data = c.sock.recv(100)
            except ConnectionResetError:
                data = b""
            check(data == b"", "got bytes from a crashing request: %r" % data)
            check(w.wait_exit(5) == 1, "exit code %r" % w.proc.returncode)
        finally:
            c.close()

    def check_threads(self):
        w = self.spawn({"PYPE_THREADS": "4"})
        j = one(w, "/echo").json()
        check(j["wsgi.multithread"] is True, "wsgi.multithread %r" % j["wsgi.multithread"])
        results = []

        def go():
            try:
                r = one(w, "/together?n=4")
                results.append(r.status)
            except Exception as e:  # recorded as a failure below
                results.append(repr(e))

        # Four requests that each wait until all four are in the app at once: served one at a time, the first would
        # wait alone and get 503 after 5 s.
        threads = [threading.Thread(target=go) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        check(results == [200] * 4, "4 x /together?n=4 with 4 threads: %r" % results)
        # keep-alive and pipelining through the pool
        c = w.connect()
        try:
            for _ in range(3):
                check(c.get("/health").status == 200, "keep-alive through the pool")
            c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
            for _ in range(3):
                check(c.read_response().body == b"ok", "pipelining through the pool")
        finally:
            c.close()
        # a graceful stop waits for the in-flight requests of every thread
        conns = [w.connect() for _ in range(3)]
        for c in conns:
            c.request("GET", "/slow?ms=500")
        time.sleep(0.15)
        os.kill(w.pid, signal.SIGTERM)
        for c in conns:
            r = c.read_response()
            check(r.status == 200 and r.header("connection", "").lower() == "close", "draining thread: %r" % r)
            c.close()
        check(w.wait_exit(5) == 0, "exit code %r after SIGTERM" % w.proc.returncode)


# ---------------------------------------------------------------------------------------------------------
# Bench
# ---------------------------------------------------------------------------------------------------------

_BASELINE_SERVER = r"""
import os, select, socket, sys
path = sys.argv[1]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(path); l.listen(1)
print("ready", flush=True)
c, _ = l.accept()
ep = select.epoll(); ep.register(c.fileno(), select.EPOLLIN)
resp = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n12345"
while True:
    ep.poll()
    d = c.recv(65536)
    if not d:
        break
    c.sendall(resp * d.count(b"\r\n\r\n"))
"""


def _ping_pong(path, n):
    """n sequential keep-alive GET /pid on one connection; requests per second."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    req = b"GET /pid HTTP/1.1\r\nHost: bench\r\n\r\n"
    recv = s.recv
    send = s.send
    expected = 0
    for _ in range(200):  # warm-up, and learn the exact response size
        send(req)
        data = recv(65536)
        expected = len(data)
    t0 = time.perf_counter()
    for _ in range(n):
        send(req)
        data = recv(65536)
        while len(data) < expected:
            data += recv(65536)
    elapsed = time.perf_counter() - t0
    s.close()
    return n / elapsed, expected


def _pipelined(path, n, depth, size):
    """n GET /pid sent in pipelined batches of depth: the worker's own cost per request, without wake-ups."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    batch = b"GET /pid HTTP/1.1\r\nHost: bench\r\n\r\n" * depth
    want = size * depth
    t0 = time.perf_counter()
    for _ in range(n // depth):
        s.sendall(batch)
        got = 0
        while got < want:
            got += len(s.recv(1 << 20))
    elapsed = time.perf_counter() - t0
    s.close()
    return (n // depth) * depth / elapsed


def bench(python, n):
    tmp = tempfile.mkdtemp(prefix="pype-bench-")
    w = Worker(python, tmp, {"PYPE_THREADS": "1"})
    base = None
    try:
        w.wait_ready()
        rate, size = _ping_pong(w.sock_path, n)
        piped = _pipelined(w.sock_path, n, 32, size)
        # the same client against a do-nothing epoll echo server in the same interpreter: the machine's
        # floor for one sequential connection (mostly process wake-up latency)
        path = os.path.join(tmp, "baseline.sock")
        base = subprocess.Popen([python, "-c", _BASELINE_SERVER, path], stdout=subprocess.PIPE)
        base.stdout.readline()
        floor, _ = _ping_pong(path, n)
        return rate, piped, floor
    finally:
        if base is not None:
            base.kill()
            base.wait()
        w.stop()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs the shim")
    ap.add_argument("--shim", default=None, help="path of pype_worker.py (default: the repository's)")
    ap.add_argument("--only", default="", help="comma-separated check names")
    ap.add_argument("--bench", action="store_true", help="after the checks, time keep-alive GET /pid requests")
    ap.add_argument("--bench-only", action="store_true", help="only the benchmark")
    ap.add_argument("--bench-requests", type=int, default=20000)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.shim:
        global SHIM
        SHIM = os.path.abspath(args.shim)

    version = subprocess.check_output([args.python, "-c", "import sys; print(sys.version.split()[0])"]).decode().strip()
    print("shim self-test: %s (Python %s)" % (args.python, version))
    failed = []
    if not args.bench_only:
        suite = Suite(args.python, args.verbose)
        try:
            suite.run(set(n for n in args.only.split(",") if n))
        finally:
            suite.cleanup()
        failed = suite.failed
        print("%d passed, %d failed%s" % (suite.passed, len(failed), (": " + ", ".join(failed)) if failed else ""))
    if args.bench or args.bench_only:
        rate, piped, floor = bench(args.python, args.bench_requests)
        print("BENCH keep-alive GET /pid, one connection, %d sequential requests: %.0f req/s (Python %s)"
              % (args.bench_requests, rate, version))
        print("BENCH   same client against a do-nothing epoll echo server: %.0f req/s (wake-up floor)" % floor)
        print("BENCH   pipelined 32 deep (worker cost without wake-ups): %.0f req/s" % piped)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
