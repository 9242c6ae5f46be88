"""
Stdlib-only WSGI sample for PyPE.Exec: ``hello_app:application``.

Routes (relative to the app's path prefix, e.g. /apps/hello):
    /           HTML page: Python version, worker pid and PyPE worker id
    /api/time   JSON with the current time
    /health     "ok"
Static files (static/style.css) are served by the host, not by this code.

Runs on any CPython from 3.6 to 3.13: keep it free of newer syntax.
"""
import datetime
import html
import json
import os
import platform
import sys

_STARTED = datetime.datetime.now(datetime.timezone.utc)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Hello from PyPE.Exec</title>
  <link rel="stylesheet" href="{base}/static/style.css">
</head>
<body>
  <main>
    <h1>Hello from PyPE.Exec</h1>
    <p>This page was rendered by a plain WSGI function (standard library only).</p>
    <dl>
      <dt>Python</dt><dd>{python} ({implementation}, <code>{executable}</code>)</dd>
      <dt>Worker pid</dt><dd>{pid}</dd>
      <dt>Worker id</dt><dd>{worker_id}</dd>
      <dt>Worker started</dt><dd>{started}</dd>
      <dt>SCRIPT_NAME / PATH_INFO</dt><dd><code>{script_name}</code> / <code>{path_info}</code></dd>
    </dl>
    <p><a href="{base}/api/time">/api/time</a> &middot; <a href="{base}/health">/health</a></p>
  </main>
</body>
</html>
"""


def _respond(start_response, status, content_type, body, extra_headers=None):
    if not isinstance(body, bytes):
        body = body.encode("utf-8")
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
    ]
    if extra_headers:
        headers.extend(extra_headers)
    start_response(status, headers)
    return [body]


def _index(environ, start_response):
    # Build links from SCRIPT_NAME so they work under any prefix, with or without a
    # trailing slash in the request (/apps/hello and /apps/hello/ both work).
    script_name = environ.get("SCRIPT_NAME", "").rstrip("/")
    esc = html.escape
    page = _PAGE.format(
        base=esc(script_name),
        python=esc(platform.python_version()),
        implementation=esc(platform.python_implementation()),
        executable=esc(sys.executable or "?"),
        pid=os.getpid(),
        worker_id=esc(str(environ.get("pype.worker_id", "(not run by PyPE.Exec)"))),
        started=esc(_STARTED.isoformat(timespec="seconds")),
        script_name=esc(environ.get("SCRIPT_NAME", "")),
        path_info=esc(environ.get("PATH_INFO", "")),
    )
    return _respond(start_response, "200 OK", "text/html; charset=utf-8", page)


def _time(environ, start_response):
    now = datetime.datetime.now(datetime.timezone.utc)
    body = json.dumps(
        {
            "utc": now.isoformat(),
            "epoch": now.timestamp(),
            "python": platform.python_version(),
            "pid": os.getpid(),
            "worker_id": environ.get("pype.worker_id"),
        }
    )
    return _respond(start_response, "200 OK", "application/json", body)


def _health(environ, start_response):
    return _respond(start_response, "200 OK", "text/plain; charset=utf-8", "ok")


_ROUTES = {
    "/": _index,
    "": _index,
    "/api/time": _time,
    "/health": _health,
}


def application(environ, start_response):
    handler = _ROUTES.get(environ.get("PATH_INFO", ""))
    if handler is None:
        return _respond(start_response, "404 Not Found", "text/plain; charset=utf-8", "not found")
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        return _respond(
            start_response,
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "method not allowed",
            [("Allow", "GET, HEAD")],
        )
    result = handler(environ, start_response)
    if method == "HEAD":
        return []
    return result


if __name__ == "__main__":
    # Local try-out: python3 hello_app.py [port]  (serves the app at /, no static files)
    from wsgiref.simple_server import make_server

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    print("Serving on http://127.0.0.1:%d/" % port)
    make_server("127.0.0.1", port, application).serve_forever()
