#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""PyPE.Exec worker shim: serves one WSGI application over HTTP/1.1 on a Unix domain socket.

Started by the PyPE.Exec host as ``<python> -u pype_worker.py`` with the app root as working directory.
Standard library only; runs unchanged on CPython 3.6 to 3.13.

Environment (set by the host):
  PYPE_APP_ROOT       app root, put first on sys.path
  PYPE_WSGI           "package.module:callable" (callable may be a dotted attribute path)
  PYPE_SOCKET         path of the Unix stream socket to create and serve; "tcp:HOST:PORT" serves TCP instead
                      (not used by the host: for measuring or debugging a worker on its own, e.g. with wrk)
  PYPE_NOTIFY_SOCKET  host's AF_UNIX datagram socket for READY / FAILED messages (optional)
  PYPE_WORKER_ID      the worker's id (in notifications, logs and environ['pype.worker_id'])
  PYPE_SCRIPT_NAME    path prefix of the app ("" for a root app), split into SCRIPT_NAME / PATH_INFO
  PYPE_THREADS        request threads (default 1: requests run inline in the event loop)
  PYPE_ENVIRONMENT    TEST, QUAL, BETA or PROD (environ['pype.environment'])

Notifications are datagrams of UTF-8 "KEY=VALUE" lines:
  WORKER=<id>\\nPID=<pid>\\nREADY=1                      app imported, socket listening
  WORKER=<id>\\nPID=<pid>\\nFAILED=1\\nERROR=<traceback>   app failed to import (exit code 3)

Signals: SIGTERM finishes the requests in hand (answered with "Connection: close"), then exits 0;
SIGUSR1 dumps every thread's Python stack to stderr; SIGINT is ignored. The worker makes itself a
process-group leader and kills its group when the host dies (EOF on the stdin pipe, or a new parent).

Exit codes: 0 stopped by SIGTERM, 3 the app could not be loaded, 4 the socket could not be set up,
70 the host died (when not a process-group leader; otherwise the group is SIGKILLed).
"""

import errno
import faulthandler
import fcntl
import gc
import importlib
import io
import mmap
import os
import queue
import select
import signal
import socket
import stat
import struct
import sys
import threading
import time
import traceback
from collections import deque
from urllib.parse import unquote_to_bytes

EXIT_APP_FAILED = 3
EXIT_SOCKET_FAILED = 4
EXIT_PARENT_DIED = 70

RECV_SIZE = 65536
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
MAX_REQUEST_LINE = 8190
MAX_HEADERS = 100
MAX_HEADER_LINE = 8190
MAX_ERROR_BYTES = 32 * 1024
TICKET_SLOTS = 64  # slots of the host's ticket table (TicketTable.Slots)
DRAIN_PARTIAL_SECONDS = 10.0

# RFC 7230 tchar: a header name or method must consist of these only.
_TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEXDIG = b"0123456789abcdefABCDEF"
# Bytes allowed in a request line (space, visible ASCII, obs-text); anything left after deleting these is bad.
_REQUEST_LINE_OK = b" " + bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100))
_STR_TCHAR = _TCHAR.decode("ascii")


class HTTPError(Exception):
    """A malformed request: answered with ``status`` and the connection is closed."""

    def __init__(self, status):
        Exception.__init__(self, status)
        self.status = status


class AppLoadError(Exception):
    """PYPE_WSGI does not name a callable (reported by its message, without a traceback)."""


class ClientGone(Exception):
    """The client (the host) went away while the response was being sent."""


_REASONS = {
    400: b"Bad Request",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    505: b"HTTP Version Not Supported",
}


def _error_response(code):
    reason = _REASONS.get(code, b"Error")
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (code, reason, len(reason), reason))


_ERROR_RESPONSES = dict((code, _error_response(code)) for code in _REASONS)
_500_KEEP = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\n",
             b"Internal Server Error")
_500_CLOSE = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
              b"Connection: close\r\n\r\n", b"Internal Server Error")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# Answer to the host's "are you free?" probe (header X-PyPE-Probe, which only the host can send: the socket is
# private to it). It is served in turn like any request, so on a single-threaded worker it comes back only once
# an abandoned request in hand has finished.
_PROBE_KEEP = b"HTTP/1.1 204 No Content\r\n\r\n"
_PROBE_CLOSE = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"


# ---------------------------------------------------------------------------------------------------------
# wsgi.file_wrapper
# ---------------------------------------------------------------------------------------------------------

class FileWrapper(object):
    """``wsgi.file_wrapper``: iterates a file-like object in blocks; the server sends real files with
    sendfile(2) instead of iterating."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


# ---------------------------------------------------------------------------------------------------------
# Request parsing
# ---------------------------------------------------------------------------------------------------------

# Header name as received (latin-1 str) -> environ key; "" means "dropped" (names containing "_").
_HKEYS = {}
_METHODS = {"GET": True, "HEAD": True, "POST": True, "PUT": True, "DELETE": True, "PATCH": True,
            "OPTIONS": True}
_HOSTS = {}


def _header_key(name):
    """Environ key of a request header name (str); "" when the header is dropped."""
    if not name or name.strip(_STR_TCHAR):
        raise HTTPError(400)
    if "_" in name:
        key = ""  # X_Forwarded-For must not be able to spoof HTTP_X_FORWARDED_FOR
    else:
        upper = name.upper().replace("-", "_")
        key = upper if upper in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + upper
    if len(_HKEYS) < 4096:
        _HKEYS[name] = key
    return key


def _check_method(method):
    if not method or method.strip(_STR_TCHAR):
        raise HTTPError(400)
    if len(_METHODS) < 64:
        _METHODS[method] = True


def _has_token(value, token):
    value = value.lower()
    if token not in value:
        return False
    for part in value.split(","):
        if part.strip() == token:
            return True
    return False


def _split_host(host, scheme):
    """Host header -> (SERVER_NAME, SERVER_PORT)."""
    cached = _HOSTS.get((host, scheme))
    if cached is not None:
        return cached
    name, port = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end > 0:
            name = host[:end + 1]
            rest = host[end + 1:]
            if rest.startswith(":"):
                port = rest[1:]
    else:
        colon = host.rfind(":")
        if colon >= 0:
            name, port = host[:colon], host[colon + 1:]
    if not port:
        port = "443" if scheme == "https" else "80"
    result = (name, port)
    if len(_HOSTS) < 256:
        _HOSTS[(host, scheme)] = result
    return result


def _check_partial_head(buf):
    """Limits for a head that has not been completely received yet."""
    eol = buf.find(b"\r\n")
    if eol < 0:
        if len(buf) > MAX_REQUEST_LINE:
            raise HTTPError(414)
        return
    if eol > MAX_REQUEST_LINE:
        raise HTTPError(414)
    lines = buf[eol + 2:].split(b"\r\n")
    if len(lines) > MAX_HEADERS + 1:
        raise HTTPError(431)
    for line in lines:
        if len(line) > MAX_HEADER_LINE:
            raise HTTPError(431)


class Request(object):
    __slots__ = ("env", "v11", "close", "clen", "chunked", "expect", "head")

    def label(self):
        env = self.env
        return "%s %s" % (env.get("REQUEST_METHOD", "?"), env.get("REQUEST_URI", "?"))


# ---------------------------------------------------------------------------------------------------------
# Connection: buffering and request framing (no I/O except "100 Continue")
# ---------------------------------------------------------------------------------------------------------

class Connection(object):
    __slots__ = ("sock", "fd", "buf", "req", "parts", "have", "cstate", "remaining", "trailers",
                 "registered", "closed")

    def __init__(self, sock):
        self.sock = sock
        self.fd = sock.fileno()
        self.buf = b""
        self.req = None  # request whose head is parsed and whose body is still arriving
        self.parts = None
        self.have = 0
        self.cstate = 0
        self.remaining = 0
        self.trailers = 0
        self.registered = False
        self.closed = False

    def idle(self):
        return not self.buf and self.req is None

    def next_request(self, server):
        """Return the next complete request from the buffer, or None when more bytes are needed.
        Raises HTTPError for a malformed request."""
        req = self.req
        if req is None:
            buf = self.buf
            if not buf:
                return None
            if buf[:2] == b"\r\n":  # RFC 7230 3.5: ignore empty lines before a request line
                buf = buf.lstrip(b"\r\n")
                self.buf = buf
                if not buf:
                    return None
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                _check_partial_head(buf)
                return None
            req = server.parse_head(buf[:end])
            rest = buf[end + 4:]
            if req.chunked:
                self.req = req
                self.buf = rest
                self.parts = []
                self.have = 0
                self.cstate = 0
                self.trailers = 0
                body = self._chunked()
                if body is None:
                    self._maybe_continue(req)
                    return None
                return self._finish(req, body)
            clen = req.clen
            if not clen:
                self.buf = rest
                req.env["wsgi.input"] = io.BytesIO()
                return req
            if len(rest) >= clen:
                if len(rest) == clen:
                    self.buf = b""
                else:
                    self.buf = rest[clen:]
                    rest = rest[:clen]
                req.env["wsgi.input"] = io.BytesIO(rest)
                return req
            self.req = req
            self.parts = [rest] if rest else []
            self.have = len(rest)
            self.buf = b""
            self._maybe_continue(req)
            return None
        # the body of self.req is arriving
        if req.chunked:
            body = self._chunked()
            if body is None:
                return None
            return self._finish(req, body)
        buf = self.buf
        need = req.clen - self.have
        if len(buf) < need:
            if buf:
                self.parts.append(buf)
                self.have += len(buf)
                self.buf = b""
            return None
        if len(buf) == need:
            self.parts.append(buf)
            self.buf = b""
        else:
            self.parts.append(buf[:need])
            self.buf = buf[need:]
        return self._finish(req, b"".join(self.parts))

    def _finish(self, req, body):
        self.req = None
        self.parts = None
        if req.chunked:
            # The body is complete: tell the app its length (Django and others read CONTENT_LENGTH bytes).
            req.env["CONTENT_LENGTH"] = str(len(body))
        req.env["wsgi.input"] = io.BytesIO(body)
        return req

    def _maybe_continue(self, req):
        if req.expect:
            req.expect = False
            try:
                self.sock.sendall(_CONTINUE)
            except OSError:
                pass  # the read side will notice

    def _chunked(self):
        """Decode as much chunked body as the buffer holds; the body bytes when complete, else None."""
        buf = self.buf
        pos = 0
        n = len(buf)
        st = self.cstate
        parts = self.parts
        try:
            while True:
                if st == 0:  # chunk-size line
                    eol = buf.find(b"\r\n", pos)
                    if eol < 0:
                        if n - pos > 1024:
                            raise HTTPError(400)
                        return None
                    line = buf[pos:eol]
                    semi = line.find(b";")
                    if semi >= 0:
                        line = line[:semi]
                    line = line.strip(b" \t")
                    if not line or line.translate(None, _HEXDIG) or len(line) > 15:
                        raise HTTPError(400)
                    size = int(line, 16)
                    pos = eol + 2
                    if size == 0:
                        st = 3
                    else:
                        self.remaining = size
                        st = 1
                elif st == 1:  # chunk data
                    avail = n - pos
                    if avail <= 0:
                        return None
                    remaining = self.remaining
                    if avail >= remaining:
                        parts.append(buf[pos:pos + remaining])
                        pos += remaining
                        self.remaining = 0
                        st = 2
                    else:
                        parts.append(buf[pos:])
                        pos = n
                        self.remaining = remaining - avail
                        return None
                elif st == 2:  # CRLF after chunk data
                    if n - pos < 2:
                        return None
                    if buf[pos:pos + 2] != b"\r\n":
                        raise HTTPError(400)
                    pos += 2
                    st = 0
                else:  # trailer section, ignored
                    eol = buf.find(b"\r\n", pos)
                    if eol < 0:
                        if n - pos > MAX_HEADER_LINE:
                            raise HTTPError(431)
                        return None
                    if eol == pos:
                        pos += 2
                        st = 0
                        return b"".join(parts)
                    if eol - pos > MAX_HEADER_LINE:
                        raise HTTPError(431)
                    self.trailers += 1
                    if self.trailers > MAX_HEADERS:
                        raise HTTPError(431)
                    pos = eol + 2
        finally:
            self.cstate = st
            self.buf = buf[pos:] if pos else buf


# ---------------------------------------------------------------------------------------------------------
# Response
# ---------------------------------------------------------------------------------------------------------

# Response header name -> 0 ordinary, 1 Content-Length, 2 Connection, 3 other hop-by-hop (dropped).
_RHEADERS = {}
_HOP = {"connection": 2, "keep-alive": 3, "transfer-encoding": 3, "content-length": 1}


def _response_header_class(name):
    if type(name) is not str:
        raise TypeError("response header name must be str, not %s" % type(name).__name__)
    if not name or name.strip(_STR_TCHAR):
        raise ValueError("invalid response header name %r" % (name,))
    kind = _HOP.get(name.lower(), 0)
    if len(_RHEADERS) < 4096:
        _RHEADERS[name] = kind
    return kind


class Response(object):
    """start_response / write() state of one request, and the framing of its response."""

    __slots__ = ("sock", "req", "status", "headers", "clen", "code", "sent", "chunked", "close", "written",
                 "head_only", "server")

    def __init__(self, server, sock, req):
        self.server = server
        self.sock = sock
        self.req = req
        self.status = None
        self.headers = None
        self.clen = None
        self.code = 0
        self.sent = False
        self.chunked = False
        self.close = False
        self.written = 0
        self.head_only = False

    # -- WSGI callables ------------------------------------------------------------------------------------

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        if type(status) is not str:
            raise TypeError("status must be str, not %s" % type(status).__name__)
        if (len(status) < 4 or status[3] != " " or status[:3].strip("0123456789")
                or "\r" in status or "\n" in status):
            raise ValueError("invalid status %r (expected 'NNN Reason')" % (status,))
        clen = None
        close = False
        drop = False
        classes = _RHEADERS
        for name, value in headers:
            kind = classes.get(name)
            if kind is None:
                kind = _response_header_class(name)
            if type(value) is not str:
                raise TypeError("value of response header %r must be str, not %s" % (name, type(value).__name__))
            if "\n" in value or "\r" in value:
                raise ValueError("response header %r contains a line break" % (name,))
            if kind:
                if kind == 1:
                    if clen is None:
                        v = value.strip()
                        if not v or v.strip("0123456789"):
                            raise ValueError("invalid Content-Length %r" % (value,))
                        clen = int(v)
                else:
                    drop = True
                    if kind == 2 and _has_token(value, "close"):
                        close = True
        if drop:
            headers = [(n, v) for n, v in headers if classes.get(n) not in (2, 3)]
        self.status = status
        self.headers = headers
        self.clen = clen
        self.close = close
        self.code = int(status[:3])
        return self.write

    def write(self, data):
        """The write() callable of start_response, also used for every chunk of the result iterable."""
        if type(data) is not bytes:
            if isinstance(data, (bytearray, memoryview)):
                data = bytes(data)
            else:
                raise TypeError("response body must be bytes, not %s" % type(data).__name__)
        if not data:
            return
        if not self.sent:
            self._send_head_with(data)
            return
        if self.head_only:
            return
        if self.chunked:
            self._send(b"%x\r\n%s\r\n" % (len(data), data))
            return
        clen = self.clen
        if clen is not None:
            room = clen - self.written
            if room <= 0:
                return
            if len(data) > room:
                data = data[:room]
        self.written += len(data)
        self._send(data)

    # -- framing -------------------------------------------------------------------------------------------

    def _send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.close = True
            raise ClientGone()

    def _head(self, clen, chunked):
        """The response head; clen: Content-Length to add (None: none); decides Connection."""
        req = self.req
        if req.close or self.server.stopping:
            self.close = True
        if self.close:
            extra = "Connection: close\r\n"
        elif not req.v11:
            extra = "Connection: keep-alive\r\n"
        else:
            extra = ""
        if clen is not None:
            extra = "Content-Length: %d\r\n%s" % (clen, extra)
        elif chunked:
            extra = "Transfer-Encoding: chunked\r\n" + extra
        headers = self.headers
        if headers:
            text = "HTTP/1.1 %s\r\n%s%s\r\n" % (self.status, "".join([f"{n}: {v}\r\n" for n, v in headers]), extra)
        else:
            text = "HTTP/1.1 %s\r\n%s\r\n" % (self.status, extra)
        return text.encode("latin-1")

    def _nobody(self):
        code = self.code
        return code < 200 or code == 204 or code == 304

    def _send_head_with(self, data):
        """First non-empty chunk of a streamed response: decide framing, send head + chunk together."""
        if self.status is None:
            raise AssertionError("response body before start_response()")
        if self._nobody():
            head = self._head(None, False)
            self.sent = True
            self.head_only = True
            self._send(head)
            return
        clen = self.clen
        if clen is not None:
            head = self._head(None, False)  # the app's own Content-Length is among the headers
            self.sent = True
            if self.head_only:
                self._send(head)
                return
            if len(data) > clen:
                data = data[:clen]
            self.written = len(data)
            self._send(head + data)
            return
        if self.req.v11:
            self.chunked = True
            head = self._head(None, True)
            self.sent = True
            if self.head_only:
                self._send(head)
                return
            self._send(head + b"%x\r\n%s\r\n" % (len(data), data))
            return
        self.close = True  # HTTP/1.0 without a length: the end of the body is the end of the connection
        head = self._head(None, False)
        self.sent = True
        if self.head_only:
            self._send(head)
            return
        self.written = len(data)
        self._send(head + data)

    def send_whole(self, body):
        """The complete body is known (a list/tuple result): one sendall of head + body."""
        if self.status is None:
            raise AssertionError("the application returned without calling start_response()")
        if self._nobody():
            head = self._head(None, False)
            self.sent = True
            self._send(head)
            return not self.close
        clen = self.clen
        if clen is None:
            head = self._head(len(body), False)
        else:
            if len(body) > clen:
                body = body[:clen]
            elif len(body) < clen and not self.head_only:
                self.close = True  # the client would wait for bytes that never come
            head = self._head(None, False)
        self.sent = True
        if self.head_only or not body:
            self._send(head)
        elif len(body) <= 1048576:
            self._send(head + body)
        else:
            self._send(head)
            self._send(body)
        return not self.close

    def finish(self):
        """The iterable is exhausted. Returns True when the connection may be kept open."""
        if not self.sent:
            return self.send_whole(b"")
        if self.head_only:
            return not self.close
        if self.chunked:
            self._send(b"0\r\n\r\n")
        elif self.clen is not None and self.written < self.clen:
            self.close = True
        return not self.close

    def send_file(self, wrapper):
        """Send a FileWrapper over a real file with sendfile(2). None when the file is not suitable."""
        if self.status is None:
            return None
        f = wrapper.filelike
        try:
            fd = f.fileno()
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or "b" not in getattr(f, "mode", "b"):
                return None
            pos = f.tell()
        except Exception:
            return None
        if self._nobody():
            return self.send_whole(b"")
        clen = self.clen
        if clen is None:
            count = max(0, st.st_size - pos)
            head = self._head(count, False)
        else:
            count = clen
            head = self._head(None, False)
        self.sent = True
        self._send(head)
        if self.head_only or not count:
            return not self.close
        try:
            sent = self.sock.sendfile(f, pos, count)
        except OSError:
            self.close = True
            raise ClientGone()
        self.written = sent
        if sent < count:
            self.close = True
        return not self.close


# ---------------------------------------------------------------------------------------------------------
# Poller: epoll where available (Linux), poll elsewhere
# ---------------------------------------------------------------------------------------------------------

if hasattr(select, "epoll"):
    _POLLIN = select.EPOLLIN

    class Poller(object):
        def __init__(self):
            self._ep = select.epoll()
            self.register = self._ep.register
            self.unregister = self._ep.unregister

        def poll(self, timeout):
            return self._ep.poll(-1 if timeout is None else timeout)

        def close(self):
            self._ep.close()
else:  # pragma: no cover - non-Linux development machines
    _POLLIN = select.POLLIN

    class Poller(object):
        def __init__(self):
            self._p = select.poll()
            self.register = self._p.register
            self.unregister = self._p.unregister

        def poll(self, timeout):
            return self._p.poll(None if timeout is None else int(timeout * 1000))

        def close(self):
            pass


# ---------------------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------------------

class Server(object):
    def __init__(self, app, config, listener, wake_r, wake_w):
        self.app = app
        self.worker_id = config["worker_id"]
        self.threads = config["threads"]
        self.listener = listener
        self.socket_path = config["socket"]
        self.socket_ino = None
        self.tickets = None  # (fd, mmap) of <socket>.tickets, opened at the first ticket
        self.tickets_lock = threading.Lock()
        try:
            self.socket_ino = os.stat(self.socket_path).st_ino
        except OSError:
            pass
        self.wake_r = wake_r
        self.wake_w = wake_w
        self.stopping = False
        self.stop_started = 0.0
        self.poller = Poller()
        self.conns = {}  # fd -> Connection, every open connection
        self.busy = 0  # connections handed to request threads
        self.returned = deque()  # (Connection, keep) handed back by request threads
        self.jobs = None
        self.pool = []
        prefix = config["script_name"].rstrip("/")
        # PEP 3333 "bytes as str": the prefix as it appears in a latin-1 decoded PATH_INFO.
        self.prefix = prefix.encode("utf-8", "surrogateescape").decode("latin-1")
        self.prefix_slash = self.prefix + "/"
        self.base = {
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": self.threads > 1,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "SERVER_SOFTWARE": "PyPE.Exec",
            "pype.worker_id": self.worker_id,
            "pype.environment": config["environment"],
        }

    # -- signals -------------------------------------------------------------------------------------------

    def request_stop(self):
        """From the SIGTERM handler: must not raise. Unlinking the socket file stops new connections at
        once, even while the main thread is busy with a request (one thread); the event loop then closes
        the listener and the idle connections."""
        self.stopping = True
        self.unlink_socket()
        self.wake()

    def wake(self):
        try:
            os.write(self.wake_w, b"\0")
        except OSError:
            pass

    # -- parsing -------------------------------------------------------------------------------------------

    def parse_head(self, head):
        """Parse a request head (bytes, without the blank line) into a Request with its environ."""
        eol = head.find(b"\r\n")
        line = head if eol < 0 else head[:eol]
        if len(line) > MAX_REQUEST_LINE:
            raise HTTPError(414)
        if line.translate(None, _REQUEST_LINE_OK):
            raise HTTPError(400)  # control characters in the request line
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise HTTPError(400)
        method, target, version = parts
        if version == "HTTP/1.1":
            v11 = True
        elif version == "HTTP/1.0":
            v11 = False
        elif len(version) == 8 and version[:5] == "HTTP/" and version[5] in "0123456789" and version[6] == "." \
                and version[7] in "0123456789":
            raise HTTPError(505)
        else:
            raise HTTPError(400)
        if method not in _METHODS:
            _check_method(method)
        if not target:
            raise HTTPError(400)
        if len(lines) > MAX_HEADERS + 1:
            raise HTTPError(431)

        env = self.base.copy()
        hkeys = _HKEYS
        del lines[0]
        if len(head) > MAX_HEADER_LINE:  # only then can a single line be too long
            for line in lines:
                if len(line) > MAX_HEADER_LINE:
                    raise HTTPError(431)
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise HTTPError(400)
            key = hkeys.get(name)
            if key is None:
                key = _header_key(name)
            if not key:
                continue
            value = value.strip(" \t")
            if key in env:
                env[key] = env[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
            else:
                env[key] = value

        req = Request()
        req.env = env
        req.v11 = v11
        req.head = method == "HEAD"
        req.expect = False

        # body framing
        te = env.get("HTTP_TRANSFER_ENCODING")
        clen = env.get("CONTENT_LENGTH")
        if te is not None:
            if clen is not None:
                raise HTTPError(400)  # request smuggling guard
            if te.strip().lower() != "chunked":
                raise HTTPError(501)
            req.chunked = True
            req.clen = None
        else:
            req.chunked = False
            if clen is None:
                req.clen = 0
            else:
                if "," in clen:
                    values = set(v.strip() for v in clen.split(","))
                    if len(values) != 1:
                        raise HTTPError(400)
                    clen = values.pop()
                    env["CONTENT_LENGTH"] = clen
                clen = clen.strip()
                if not clen:
                    del env["CONTENT_LENGTH"]
                    req.clen = 0
                else:
                    if clen.strip("0123456789") or len(clen) > 18:
                        raise HTTPError(400)
                    req.clen = int(clen)
        if (req.chunked or req.clen) and v11:
            expect = env.get("HTTP_EXPECT")
            if expect is not None and expect.lower() == "100-continue":
                req.expect = True

        # persistence
        connection = env.get("HTTP_CONNECTION")
        if v11:
            req.close = connection is not None and _has_token(connection, "close")
        else:
            req.close = connection is None or not _has_token(connection, "keep-alive")

        # target: origin-form, asterisk-form or absolute-form
        raw = target
        if target[0] != "/" and target != "*":
            lower = target[:8].lower()
            if not (lower.startswith("http://") or lower.startswith("https://")):
                raise HTTPError(400)
            rest = target[target.find("//") + 2:]
            cut = len(rest)
            for sep in ("/", "?", "#"):
                i = rest.find(sep)
                if 0 <= i < cut:
                    cut = i
            target = rest[cut:]
            if target[:1] != "/":
                target = "/" + target
        if "#" in target:
            target = target[:target.find("#")]
        path, _, query = target.partition("?")
        if "%" in path:
            path = unquote_to_bytes(path.encode("latin-1")).decode("latin-1")
        prefix = self.prefix
        if not prefix:
            env["SCRIPT_NAME"] = ""
            env["PATH_INFO"] = path
        elif path.startswith(self.prefix_slash):
            env["SCRIPT_NAME"] = prefix
            env["PATH_INFO"] = path[len(prefix):]
        elif path == prefix:
            env["SCRIPT_NAME"] = prefix
            env["PATH_INFO"] = ""
        else:
            env["SCRIPT_NAME"] = ""
            env["PATH_INFO"] = path
        env["REQUEST_METHOD"] = method
        env["QUERY_STRING"] = query
        env["REQUEST_URI"] = raw
        env["RAW_URI"] = raw
        env["SERVER_PROTOCOL"] = version

        proto = env.get("HTTP_X_FORWARDED_PROTO")
        scheme = proto if proto == "https" or proto == "http" else "http"
        env["wsgi.url_scheme"] = scheme
        host = env.get("HTTP_HOST") or env.get("HTTP_X_FORWARDED_HOST") or "localhost"
        env["SERVER_NAME"], env["SERVER_PORT"] = _split_host(host, scheme)
        fwd = env.get("HTTP_X_FORWARDED_FOR")
        if fwd:
            comma = fwd.find(",")
            env["REMOTE_ADDR"] = (fwd[:comma] if comma >= 0 else fwd).strip() or "127.0.0.1"
        else:
            env["REMOTE_ADDR"] = "127.0.0.1"
        return req

    # -- request handling ----------------------------------------------------------------------------------

    def handle(self, conn, req):
        """Run the app for one request and send the response. True when the connection stays open."""
        ticket = req.env.pop("HTTP_X_PYPE_TICKET", None)
        if ticket is not None and not self.take_ticket(ticket):
            return False  # the host took this request back before it started: close without an answer
        if "HTTP_X_PYPE_PROBE" in req.env:
            close = req.close or self.stopping
            try:
                conn.sock.sendall(_PROBE_CLOSE if close else _PROBE_KEEP)
            except OSError:
                return False
            return not close
        resp = Response(self, conn.sock, req)
        if req.head:
            resp.head_only = True
        result = None
        try:
            try:
                result = self.app(req.env, resp.start_response)
                if not resp.sent:
                    kind = type(result)
                    if kind is list or kind is tuple:
                        n = len(result)
                        if n == 1:
                            body = result[0]
                            if type(body) is not bytes:
                                body = b"".join(result)
                        elif n == 0:
                            body = b""
                        else:
                            body = b"".join(result)
                        return resp.send_whole(body)
                    if kind is FileWrapper:
                        keep = resp.send_file(result)
                        if keep is not None:
                            return keep
                    elif hasattr(kind, "__len__"):
                        try:
                            single = len(result) == 1
                        except Exception:
                            single = False
                        if single:
                            for body in result:
                                break
                            if type(body) is not bytes:
                                body = b"".join([body])
                            return resp.send_whole(body)
                write = resp.write
                for chunk in result:
                    if chunk:
                        write(chunk)
                        if resp.head_only:  # HEAD, or a status without a body: the rest is not needed
                            break
                return resp.finish()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except ClientGone:
            return False
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.log_exception(req)
            if resp.sent:
                return False
            close = req.close or self.stopping or not req.v11
            head, body = _500_CLOSE if close else _500_KEEP
            try:
                conn.sock.sendall(head if req.head else head + body)
            except OSError:
                return False
            return not close

    def take_ticket(self, ticket):
        """A request the host handed to this worker ahead of time, while every thread was busy, carries a ticket,
        "<slot>:<number>": slot <slot> of the table <socket>.tickets that the host wrote "<number>, issued" into
        before it sent the request. Under a lock on that slot's 8 bytes (which the host takes too), this worker marks
        it started and serves the request, or finds the host marked it taken back (to give the request to a worker
        that became free first) and drops it. So exactly one of them has it, and a request never runs twice. When
        the table cannot be read, the request is dropped: the host then answers it itself."""
        if self.socket_path.startswith(TCP_PREFIX):
            return True  # served on its own, with no host and no table beside it: the header is a client's, ignored
        slot, sep, number = ticket.partition(":")
        if not sep or not slot.isdigit() or not number.isdigit() or len(slot) > 2 or len(number) > 18:
            return False
        slot = int(slot)
        if slot >= TICKET_SLOTS:
            return False
        issued = (int(number) << 8) | 1
        offset = slot * 8
        # lockf locks belong to the process, so threads of one worker exclude each other here; the table is opened
        # once, under this lock too (closing a second descriptor of the file would drop the process's locks on it).
        with self.tickets_lock:
            table = self.tickets or self.open_tickets()
            if table is None:
                return False
            fd, view = table
            fcntl.lockf(fd, fcntl.LOCK_EX, 8, offset, 0)
            try:
                if struct.unpack_from("<q", view, offset)[0] != issued:
                    return False
                struct.pack_into("<q", view, offset, issued + 1)  # started
                return True
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 8, offset, 0)

    def open_tickets(self):
        try:
            fd = os.open(self.socket_path + ".tickets", os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            self.tickets = (fd, mmap.mmap(fd, TICKET_SLOTS * 8))
        except (OSError, ValueError):
            os.close(fd)
            return None
        return self.tickets

    def log_exception(self, req):
        try:
            text = "[pype-worker %s] pid %d: exception while serving %s\n%s" % (
                self.worker_id, os.getpid(), req.label(), traceback.format_exc())
            sys.stderr.write(text)
            sys.stderr.flush()
        except Exception:
            pass

    def serve_connection(self, conn, req):
        """Serve req and any further complete (pipelined) requests already buffered. True: keep conn."""
        while True:
            if not self.handle(conn, req):
                return False
            try:
                req = conn.next_request(self)
            except HTTPError as e:
                self.reject(conn, e.status)
                return False
            if req is None:
                return True

    def reject(self, conn, status):
        try:
            conn.sock.sendall(_ERROR_RESPONSES.get(status) or _ERROR_RESPONSES[400])
        except OSError:
            pass

    # -- connections ---------------------------------------------------------------------------------------

    def close_conn(self, conn):
        if conn.closed:
            return
        conn.closed = True
        if conn.registered:
            conn.registered = False
            try:
                self.poller.unregister(conn.fd)
            except (OSError, ValueError, KeyError):
                pass
        self.conns.pop(conn.fd, None)
        try:
            conn.sock.close()
        except OSError:
            pass

    def accept(self):
        listener = self.listener
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    sys.stderr.write("[pype-worker %s] accept failed: %s\n" % (self.worker_id, e))
                    time.sleep(0.05)
                return
            sock.setblocking(True)
            if sock.family != socket.AF_UNIX:
                # TCP mode: answers go out in one or two sends; do not let Nagle hold the second one back.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock)
            self.conns[conn.fd] = conn
            self.poller.register(conn.fd, _POLLIN)
            conn.registered = True

    def on_readable(self, conn):
        try:
            # Connections are blocking sockets (for sendall); never let a stale readiness event block the loop.
            data = conn.sock.recv(RECV_SIZE, _DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close_conn(conn)
            return
        if not data:
            # EOF: every complete request was served when it arrived; what is left is a partial request.
            self.close_conn(conn)
            return
        conn.buf = conn.buf + data if conn.buf else data
        try:
            req = conn.next_request(self)
        except HTTPError as e:
            self.reject(conn, e.status)
            self.close_conn(conn)
            return
        if req is None:
            return
        if self.jobs is not None:
            conn.registered = False
            self.poller.unregister(conn.fd)
            self.busy += 1
            self.jobs.put((conn, req))
            return
        try:
            keep = self.serve_connection(conn, req)
        except Exception:
            self.log_exception(req)
            keep = False
        if not keep:
            self.close_conn(conn)

    def thread_main(self):
        jobs = self.jobs
        while True:
            item = jobs.get()
            if item is None:
                return
            conn, req = item
            keep = False
            try:
                keep = self.serve_connection(conn, req)
            except BaseException:
                self.log_exception(req)
            self.returned.append((conn, keep))
            self.wake()

    def take_returned(self):
        returned = self.returned
        while returned:
            conn, keep = returned.popleft()
            self.busy -= 1
            if keep and not self.stopping:
                self.poller.register(conn.fd, _POLLIN)
                conn.registered = True
            else:
                self.close_conn(conn)

    # -- main loop -----------------------------------------------------------------------------------------

    def begin_stop(self):
        self.stop_started = time.monotonic()
        if self.listener is not None:
            try:
                self.poller.unregister(self.listener.fileno())
            except (OSError, ValueError, KeyError):
                pass
            try:
                self.listener.close()
            except OSError:
                pass
            self.listener = None
        self.unlink_socket()

    def unlink_socket(self):
        if self.socket_path.startswith(TCP_PREFIX):
            return
        try:
            if self.socket_ino is None or os.stat(self.socket_path).st_ino == self.socket_ino:
                os.unlink(self.socket_path)
        except OSError:
            pass

    def run(self):
        if self.threads > 1:
            self.jobs = queue.Queue()
            for i in range(self.threads):
                t = threading.Thread(target=self.thread_main, name="pype-request-%d" % (i + 1))
                t.daemon = True
                t.start()
                self.pool.append(t)
        poller = self.poller
        listen_fd = self.listener.fileno()
        wake_fd = self.wake_r
        poller.register(listen_fd, _POLLIN)
        poller.register(wake_fd, _POLLIN)
        conns = self.conns
        stop_begun = False
        timeout = None
        while True:
            if self.stopping:
                if not stop_begun:
                    stop_begun = True
                    self.begin_stop()
                    timeout = 0.2
                # close idle connections; give partial requests a little time to complete
                late = time.monotonic() - self.stop_started > DRAIN_PARTIAL_SECONDS
                for conn in list(conns.values()):
                    if conn.registered and (late or conn.idle()):
                        self.close_conn(conn)
                if self.returned:
                    self.take_returned()
                if not conns and self.busy == 0:
                    break
            try:
                events = poller.poll(timeout)
            except InterruptedError:
                continue
            for fd, _ in events:
                conn = conns.get(fd)
                if conn is not None:
                    if conn.registered:
                        self.on_readable(conn)
                elif fd == wake_fd:
                    try:
                        os.read(wake_fd, 4096)
                    except OSError:
                        pass
                    if self.returned:
                        self.take_returned()
                elif fd == listen_fd and self.listener is not None:
                    self.accept()
        if self.jobs is not None:
            for _ in self.pool:
                self.jobs.put(None)
            for t in self.pool:
                t.join(1.0)
        self.unlink_socket()
        poller.close()


# ---------------------------------------------------------------------------------------------------------
# Start-up helpers
# ---------------------------------------------------------------------------------------------------------

def _notify(path, text):
    if not path:
        return
    addr = "\0" + path[1:] if path.startswith("@") else path
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.sendto(text.encode("utf-8", "replace"), addr)
        finally:
            s.close()
    except OSError as e:
        sys.stderr.write("[pype-worker] could not notify %s: %s\n" % (path, e))


def _truncate_error(text):
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_ERROR_BYTES:
        return text
    marker = b"\n... [traceback truncated] ...\n"
    head = 8 * 1024
    tail = MAX_ERROR_BYTES - head - len(marker)
    return (data[:head] + marker + data[-tail:]).decode("utf-8", "ignore")


def _die_with_parent():
    try:
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpgrp(), signal.SIGKILL)
    except OSError:
        pass
    os._exit(EXIT_PARENT_DIED)


def _watch_parent(parent_pid, stdin_is_pipe):
    """Dies with the host: EOF (or an error) on the stdin pipe, or re-parenting."""
    while True:
        try:
            if stdin_is_pipe:
                ready, _, _ = select.select([0], [], [], 1.0)
                if ready:
                    try:
                        data = os.read(0, 4096)
                    except OSError:
                        data = b""
                    if not data:
                        _die_with_parent()
            else:
                time.sleep(1.0)
            if os.getppid() != parent_pid:
                _die_with_parent()
        except Exception:
            # select() failing on fd 0 (closed behind our back): keep polling the parent pid
            stdin_is_pipe = False
            time.sleep(1.0)


def _start_parent_watch():
    try:
        mode = os.fstat(0).st_mode
        is_pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)
    except OSError:
        is_pipe = False
    t = threading.Thread(target=_watch_parent, args=(os.getppid(), is_pipe), name="pype-parent-watch")
    t.daemon = True
    t.start()
    if is_pipe:
        try:
            sys.stdin = open(os.devnull, "r")  # the app must not read the host's pipe
        except OSError:
            pass


TCP_PREFIX = "tcp:"


def _config():
    try:
        threads = int(os.environ.get("PYPE_THREADS") or "1")
    except ValueError:
        threads = 1
    return {
        "app_root": os.environ.get("PYPE_APP_ROOT") or os.getcwd(),
        "wsgi": os.environ.get("PYPE_WSGI", ""),
        "socket": os.environ.get("PYPE_SOCKET", ""),
        "notify": os.environ.get("PYPE_NOTIFY_SOCKET", ""),
        "worker_id": os.environ.get("PYPE_WORKER_ID", "") or str(os.getpid()),
        "script_name": os.environ.get("PYPE_SCRIPT_NAME", ""),
        "threads": max(1, threads),
        "environment": os.environ.get("PYPE_ENVIRONMENT", ""),
    }


def _load_app(spec):
    if not spec:
        raise AppLoadError("PYPE_WSGI is not set (expected 'package.module:callable')")
    module_name, _, attrs = spec.partition(":")
    module_name = module_name.strip()
    attrs = attrs.strip() or "application"
    if not module_name:
        raise AppLoadError("PYPE_WSGI %r names no module (expected 'package.module:callable')" % spec)
    obj = importlib.import_module(module_name)
    path = module_name
    for attr in attrs.split("."):
        missing = object()
        obj = getattr(obj, attr, missing)
        if obj is missing:
            raise AppLoadError("PYPE_WSGI %r: %s has no attribute %r" % (spec, path, attr))
        path = path + ("." if path != module_name else ":") + attr
    if not callable(obj):
        raise AppLoadError("PYPE_WSGI %r: %s is not callable (it is a %s)" % (spec, path, type(obj).__name__))
    return obj


def _bind(path):
    if path.startswith(TCP_PREFIX):
        host, _, port = path[len(TCP_PREFIX):].rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            # Several workers may share one port; the kernel spreads the connections over them.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), int(port)))
        sock.listen(1024)
        sock.setblocking(False)
        return sock
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(path)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def main():
    try:
        os.setpgrp()
    except OSError:
        pass
    _start_parent_watch()

    config = _config()
    worker_id = config["worker_id"]
    pid = os.getpid()
    state = {"server": None, "stopping": False}

    try:
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True, chain=False)
    except Exception as e:
        sys.stderr.write("[pype-worker %s] faulthandler unavailable: %s\n" % (worker_id, e))
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)

    def on_sigterm(signum, frame):
        state["stopping"] = True
        server = state["server"]
        if server is not None:
            server.request_stop()

    # Installed before the app is imported, so that an app may override it at import.
    signal.signal(signal.SIGTERM, on_sigterm)

    # sys.path: the app root first; not the shim's own folder.
    shim_dir = os.path.dirname(os.path.abspath(__file__))
    if sys.path and sys.path[0] and os.path.abspath(sys.path[0]) == shim_dir:
        del sys.path[0]
    sys.path.insert(0, config["app_root"])

    try:
        app = _load_app(config["wsgi"])
    except AppLoadError as e:
        tb = "%s: %s\n" % (type(e).__name__, e)
    except BaseException:
        tb = traceback.format_exc()
    else:
        tb = None
    if tb is not None:
        sys.stderr.write("[pype-worker %s] pid %d: could not load the application %r\n%s"
                         % (worker_id, pid, config["wsgi"], tb))
        sys.stderr.flush()
        _notify(config["notify"], "WORKER=%s\nPID=%d\nFAILED=1\nERROR=%s" % (worker_id, pid, _truncate_error(tb)))
        os._exit(EXIT_APP_FAILED)

    # What the app built at import (Django's sample: ~45,000 objects) moves to the permanent generation, so a full
    # collection no longer walks it: 19-28 ms pauses in the middle of a request become about 1 ms (BENCHMARKS.md,
    # "Python's full collections"). The import's own cyclic garbage is collected first, or it would be kept for
    # good; so are import-time objects that only later become cyclic garbage (rare: module-level state). Garbage
    # made after the import is collected as before. Python 3.7+.
    if hasattr(gc, "freeze"):
        gc.collect()
        gc.freeze()

    if not config["socket"]:
        msg = "PYPE_SOCKET is not set"
        sys.stderr.write("[pype-worker %s] %s\n" % (worker_id, msg))
        _notify(config["notify"], "WORKER=%s\nPID=%d\nFAILED=1\nERROR=%s" % (worker_id, pid, msg))
        sys.exit(EXIT_SOCKET_FAILED)
    try:
        listener = _bind(config["socket"])
    except OSError:
        tb = traceback.format_exc()
        sys.stderr.write("[pype-worker %s] could not listen on %s\n%s" % (worker_id, config["socket"], tb))
        _notify(config["notify"], "WORKER=%s\nPID=%d\nFAILED=1\nERROR=%s" % (worker_id, pid, _truncate_error(tb)))
        sys.exit(EXIT_SOCKET_FAILED)

    server = Server(app, config, listener, wake_r, wake_w)
    state["server"] = server
    if state["stopping"]:  # SIGTERM while the app was importing
        server.stopping = True
    else:
        _notify(config["notify"], "WORKER=%s\nPID=%d\nREADY=1" % (worker_id, pid))
    try:
        server.run()
    finally:
        server.unlink_socket()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
