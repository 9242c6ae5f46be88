#!/usr/bin/env python3
"""Side-by-side comparison: the Django sample and a static file served by PyPE.Exec, nginx + gunicorn,
nginx + uWSGI, gunicorn alone and uWSGI alone, each with the same number of Python worker processes,
measured with wrk in turns (every setup once per round, several rounds), medians reported.

Run through scripts/compare.sh (it installs nginx, gunicorn, uwsgi and wrk). Loopback only; every run is
bounded by wrk's duration."""
import argparse, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "directory")
STATIC_ROOT = os.path.join(SAMPLE, "static")
HOST_DLL = os.path.join(REPO, "src", "Host", "bin", "Release", "net10.0", "PyPE.Host.dll")
PORT = {"pype": 18100, "gunicorn": 18200, "nginx_gunicorn": 18300, "uwsgi": 18400, "nginx_uwsgi": 18500}
PATHS = {  # scenario -> (path on PyPE.Exec, path elsewhere)
    "static": ("/apps/directory/static/css/site.css", "/static/css/site.css"),
    "json": ("/apps/directory/api/ping", "/api/ping"),
    "page": ("/apps/directory/", "/"),
}


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError("not answering: " + url)


def start(cmd, env=None, cwd=None):
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def nginx_conf(tmp, port, upstream_block, pass_directive):
    conf = os.path.join(tmp, "nginx-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("""worker_processes 1; daemon off; pid %(tmp)s/nginx-%(port)d.pid; error_log %(tmp)s/nginx-%(port)d.err warn;
events { worker_connections 1024; }
http { access_log off; include /etc/nginx/mime.types; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path %(tmp)s/body; proxy_temp_path %(tmp)s/proxy; fastcgi_temp_path %(tmp)s/fcgi; uwsgi_temp_path %(tmp)s/uwsgi; scgi_temp_path %(tmp)s/scgi;
  %(upstream)s
  server { listen 127.0.0.1:%(port)d;
    location /static/ { alias %(static)s/; }
    location / { %(pass)s }
  }
}
""" % {"tmp": tmp, "port": port, "upstream": upstream_block, "pass": pass_directive, "static": STATIC_ROOT})
    return conf


def setups(tmp, workers):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="site1.settings")
    gsock, usock = os.path.join(tmp, "gunicorn.sock"), os.path.join(tmp, "uwsgi.sock")
    apps = os.path.join(tmp, "apps.d")
    os.makedirs(apps, exist_ok=True)
    with open(os.path.join(apps, "directory.json"), "w") as f:
        f.write("""{ "runtime": "system", "root": "%s", "wsgi": "site1.wsgi:application",
  "route": { "pathPrefix": "/apps/directory" }, "env": { "DJANGO_SETTINGS_MODULE": "site1.settings" },
  "static": { "/apps/directory/static": "static" }, "pool": { "minWorkers": %d, "maxWorkers": %d, "maxQueue": 1000 },
  "health": { "intervalSeconds": 0 } }""" % (SAMPLE, workers, workers))
    uwsgi_common = ["uwsgi", "--plugin", "python3", "--master", "--processes", str(workers), "--chdir", SAMPLE,
                    "--module", "site1.wsgi:application", "--disable-logging", "--die-on-term", "--need-app", "--chmod-socket=666"]
    return {
        "pype": lambda: [start(["dotnet", HOST_DLL, "--urls", "http://127.0.0.1:%d" % PORT["pype"], "--PyPE:Admin:Urls=http://127.0.0.1:18190",
                                "--PyPE:AppsDirectory=" + apps, "--PyPE:Slo:Database=" + os.path.join(tmp, "slo.db"),
                                "--PyPE:RuntimeDirectory=" + os.path.join(tmp, "run"), "--Serilog:MinimumLevel:Default=Warning"])],
        "nginx_gunicorn": lambda: [start(["gunicorn", "-w", str(workers), "-b", "unix:" + gsock, "site1.wsgi:application"], env=env, cwd=SAMPLE),
                                   start(["nginx", "-c", nginx_conf(tmp, PORT["nginx_gunicorn"], "upstream app { server unix:%s; keepalive 16; }" % gsock,
                                                                    "proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $host;")])],
        "nginx_uwsgi": lambda: [start(uwsgi_common + ["--socket", usock], env=env),
                                start(["nginx", "-c", nginx_conf(tmp, PORT["nginx_uwsgi"], "upstream app { server unix:%s; }" % usock,
                                                                 "include /etc/nginx/uwsgi_params; uwsgi_pass app;")])],
        "gunicorn": lambda: [start(["gunicorn", "-w", str(workers), "-b", "127.0.0.1:%d" % PORT["gunicorn"], "site1.wsgi:application"], env=env, cwd=SAMPLE)],
        "uwsgi": lambda: [start(uwsgi_common + ["--http11-socket", "127.0.0.1:%d" % PORT["uwsgi"]], env=env)],
    }


def url(setup, scenario):
    pype_path, other_path = PATHS[scenario]
    return "http://127.0.0.1:%d%s" % (PORT[setup], pype_path if setup == "pype" else other_path)


def wrk(target, seconds, connections):
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency", target], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for p in ("50", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
        lat[p] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": lat["50"], "p90": lat["90"], "p99": lat["99"], "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--setups", default="pype,nginx_gunicorn,nginx_uwsgi,gunicorn,uwsgi")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pype-compare-")
    os.chmod(tmp, 0o755)  # nginx's worker processes (not root) reach the sockets in here
    for d in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    chosen = args.setups.split(",")
    factories = setups(tmp, args.workers)
    results = {}  # (setup, scenario) -> [runs]
    try:
        for round_ in range(1, args.rounds + 1):
            for setup in chosen:
                procs = factories[setup]()
                try:
                    wait_http(url(setup, "json"))
                    for scenario in PATHS:
                        if scenario == "static" and setup in ("gunicorn", "uwsgi"):
                            continue  # a worker server alone does not serve the static folder
                        wrk(url(setup, scenario), 2, args.connections)  # warm-up
                        r = wrk(url(setup, scenario), args.seconds, args.connections)
                        results.setdefault((setup, scenario), []).append(r)
                        print("round %d %-15s %-6s %9.0f req/s  p50 %7.2f  p90 %7.2f  p99 %7.2f ms  non-2xx %d %s" % (
                            round_, setup, scenario, r["rps"], r["p50"], r["p90"], r["p99"], r["non2xx"], r["socket_errors"]), flush=True)
                finally:
                    stop(procs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {k: {m: statistics.median(r[m] for r in runs) for m in ("rps", "p50", "p90", "p99")} for k, runs in results.items()}
    trouble = {k: "; ".join(sorted({("non-2xx %d" % r["non2xx"] if r["non2xx"] else "") + (" socket errors: " + r["socket_errors"] if r["socket_errors"] else "") for r in runs} - {""})) for k, runs in results.items()}
    print("\n| request | setup | req/s (median of %d) | p50 ms | p90 ms | p99 ms | PyPE.Exec / this (req/s) | errors |" % args.rounds)
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for scenario in PATHS:
        for setup in chosen:
            if (setup, scenario) not in med:
                continue
            m = med[(setup, scenario)]
            ratio = med[("pype", scenario)]["rps"] / m["rps"] if ("pype", scenario) in med else float("nan")
            print("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f× | %s |" % (scenario, setup, m["rps"], m["p50"], m["p90"], m["p99"], ratio, trouble[(setup, scenario)] or "none"))
    print("\n%d Python workers per setup; wrk -t2 -c%d, %d s per run after a 2 s warm-up; client and servers share %d cores." % (
        args.workers, args.connections, args.seconds, os.cpu_count()))


if __name__ == "__main__":
    sys.exit(main())
