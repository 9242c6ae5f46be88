"""WSGI test application used by PyPE.Exec's functional tests and tests/TestApps/shim_selftest.py.

Standard library only, runs on CPython 3.6+. Entry point: ``testapp.app:application``.

Start-up switches (environment):
  TESTAPP_CRASH_ON_START=1   raise RuntimeError at import (the shim reports FAILED, exits 3)
  TESTAPP_IGNORE_SIGTERM=1   ignore SIGTERM (the shim installs its handler before importing the app)
  TESTAPP_START_DELAY_MS=n   sleep n ms at import (slow start)

Paths (matched against PATH_INFO, i.e. below SCRIPT_NAME):
  /health                 200 "ok"
  /pid                    the worker's pid as text
  /echo                   JSON: method, SCRIPT_NAME, PATH_INFO, QUERY_STRING, REMOTE_ADDR, scheme, server name and
                          port, every HTTP_* header, body length and sha256, pid, worker id, wsgi.* flags
  /slow?ms=N              sleep N ms, then JSON {"pid", "slept_ms"}
  /together?n=N           wait until N requests are here at once (5 s at most): 200 when they were, else 503
  /hang                   sleep forever (in small sleeps)
  /crash                  os._exit(1) in the middle of the request
  /exception              raise before start_response (the shim answers 500)
  /exc-info               start_response(200), raise, catch, start_response(500, ..., exc_info): the app's 500
  /write                  uses the write() callable, then returns an iterable
  /stream?chunks=N&size=B&delay_ms=D   generator without Content-Length (chunked); close() is counted
  /file?size=B            a temporary file through wsgi.file_wrapper, with Content-Length
  /leak?mb=N              allocate and keep N MiB; JSON {"held_mb"}
  /stats                  JSON counters {"requests", "closes", ...}
  /status/<code>          that status (100-599; reason from http.client.responses)
  /headers                many response headers, including repeated Set-Cookie
  /huge-headers           80 KB of response headers (more than the host accepts)
  /latin1-header          a header value with a Latin-1 letter (WSGI header values are Latin-1 strings)
  /ignore-sigterm         signal.signal(SIGTERM, SIG_IGN), then 200
The deterministic body of /file and /stream: byte i is (i * 31 + 7) % 251 (see pattern()).
"""

import gc
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from http.client import responses as _reasons
from urllib.parse import parse_qs

if os.environ.get("TESTAPP_START_DELAY_MS"):
    time.sleep(int(os.environ["TESTAPP_START_DELAY_MS"]) / 1000.0)

if os.environ.get("TESTAPP_CRASH_ON_START") == "1":
    raise RuntimeError("testapp configured to crash on start")

if os.environ.get("TESTAPP_IGNORE_SIGTERM") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

_lock = threading.Lock()
_stats = {"requests": 0, "closes": 0, "stream_started": 0, "stream_finished": 0}
_leak = []


def _count(key, n=1):
    with _lock:
        _stats[key] += n


def pattern(size, offset=0):
    """Deterministic test bytes: byte i is (i * 31 + 7) % 251."""
    block = bytes(((i * 31 + 7) % 251) for i in range(251))
    start = offset % 251
    out = (block * ((start + size) // 251 + 2))[start:start + size]
    return out


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _text(start_response, text, status="200 OK"):
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _query(environ):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    return dict((k, v[-1]) for k, v in q.items())


def _int(q, key, default):
    try:
        return int(q.get(key, default))
    except ValueError:
        return default


class _Stream(object):
    """An iterable (not a list) with close(), streamed chunked by the shim."""

    def __init__(self, chunks, size, delay):
        self.chunks = chunks
        self.size = size
        self.delay = delay

    def __iter__(self):
        _count("stream_started")
        for i in range(self.chunks):
            if i and self.delay:
                time.sleep(self.delay)
            yield pattern(self.size, i * self.size)
        _count("stream_finished")

    def close(self):
        _count("closes")


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    headers = dict((k, v) for k, v in environ.items() if k.startswith("HTTP_"))
    keys = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "SERVER_NAME",
            "SERVER_PORT", "SERVER_PROTOCOL", "CONTENT_TYPE", "CONTENT_LENGTH", "REQUEST_URI", "RAW_URI",
            "HTTP_HOST", "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
            "wsgi.input_terminated", "pype.worker_id", "pype.environment")
    out = dict((k, environ.get(k)) for k in keys)
    out.update({
        "method": environ["REQUEST_METHOD"],
        "headers": headers,
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "pid": os.getpid(),
        "worker_id": environ.get("pype.worker_id"),
        "wsgi.version": list(environ.get("wsgi.version", ())),
        "has_file_wrapper": "wsgi.file_wrapper" in environ,
        "python": sys.version.split()[0],
        "gc_frozen": gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else None,
    })
    return _json(start_response, out)


_barriers = {}
_barriers_lock = threading.Lock()


def _barrier(n):
    """One barrier per group size (a barrier serves group after group), renewed after one broke on a timeout."""
    with _barriers_lock:
        barrier = _barriers.get(n)
        if barrier is None or barrier.broken:
            barrier = _barriers[n] = threading.Barrier(n)
        return barrier


def application(environ, start_response):
    _count("requests")
    path = environ.get("PATH_INFO", "")
    q = _query(environ)

    if path == "/health":
        return _text(start_response, "ok")
    if path == "/pid":
        return _text(start_response, str(os.getpid()))
    if path == "/echo" or path.startswith("/echo/"):
        return echo(environ, start_response)
    if path == "/slow":
        ms = _int(q, "ms", 100)
        time.sleep(ms / 1000.0)
        return _json(start_response, {"pid": os.getpid(), "slept_ms": ms})
    if path == "/together":
        try:
            _barrier(_int(q, "n", 2)).wait(5)
        except threading.BrokenBarrierError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"not together"]
        return _text(start_response, "together")
    if path == "/hang":
        while True:
            time.sleep(0.05)
    if path == "/crash":
        sys.stderr.write("testapp: /crash requested, exiting\n")
        os._exit(1)
    if path == "/exception":
        raise ValueError("testapp /exception raised on purpose")
    if path == "/exc-info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise KeyError("testapp /exc-info raised on purpose")
        except KeyError:
            body = b"app-supplied error page"
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/plain"), ("X-Exc-Info", "1"), ("Content-Length", str(len(body)))],
                           sys.exc_info())
            return [body]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written-")
        write(b"by-write-")
        return [b"then-", b"iterable"]
    if path == "/stream":
        chunks = _int(q, "chunks", 5)
        size = _int(q, "size", 1024)
        delay = _int(q, "delay_ms", 0) / 1000.0
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return _Stream(chunks, size, delay)
    if path == "/file":
        size = _int(q, "size", 100000)
        f = tempfile.TemporaryFile()
        f.write(pattern(size))
        f.seek(0)
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))])
        return environ["wsgi.file_wrapper"](f, 65536)
    if path == "/leak":
        mb = _int(q, "mb", 10)
        block = bytearray(mb * 1024 * 1024)
        for i in range(0, len(block), 4096):  # touch every page so it counts as resident
            block[i] = 1
        with _lock:
            _leak.append(block)
            held = sum(len(b) for b in _leak) // (1024 * 1024)
        return _json(start_response, {"pid": os.getpid(), "held_mb": held})
    if path == "/stats":
        with _lock:
            snapshot = dict(_stats)
        snapshot["pid"] = os.getpid()
        return _json(start_response, snapshot)
    if path.startswith("/status/"):
        try:
            code = int(path[len("/status/"):])
        except ValueError:
            code = 0
        if not 100 <= code <= 599:
            return _text(start_response, "bad status", "400 Bad Request")
        reason = _reasons.get(code, "Status %d" % code)
        if code in (204, 304) or code < 200:
            start_response("%d %s" % (code, reason), [])
            return []
        return _text(start_response, "status %d" % code, "%d %s" % (code, reason))
    if path == "/huge-headers":
        # Response headers larger than the host accepts (64 KiB): the host answers 502, the worker lives on.
        start_response("200 OK", [("X-Huge-%d" % i, "x" * 1000) for i in range(80)] + [("Content-Length", "2")])
        return [b"ok"]
    if path == "/latin1-header":
        start_response("200 OK", [("X-Place", "Z\u00fcrich"), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/headers":
        body = b"headers"
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        headers += [("Set-Cookie", "c%d=v%d; Path=/" % (i, i)) for i in range(3)]
        headers += [("X-Test-%d" % i, "value-%d" % i) for i in range(20)]
        start_response("200 OK", headers)
        return [body]
    if path == "/ignore-sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return _text(start_response, "SIGTERM ignored")
    return _text(start_response, "not found: %s" % path, "404 Not Found")
