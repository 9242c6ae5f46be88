#!/usr/bin/env python3
"""Side-by-side comparison: the Django sample and a static file served by PyPE.Exec, nginx + gunicorn,
nginx + uWSGI, gunicorn alone, uWSGI alone and PyPE.Exec's own worker shim alone (pype_worker), each with the
same number of Python worker processes,
measured with wrk in turns (every setup once per round, several rounds), medians reported.

Run through scripts/compare.sh (it installs nginx, gunicorn, uwsgi, wrk and gcc, and builds the host, the load
suite and scripts/round_trip.c, the floor under the proxy-hop table). Loopback only; every run is bounded by wrk's
duration."""
import argparse, json, os, re, resource, shutil, signal, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "samples", "directory")
STATIC_ROOT = os.path.join(SAMPLE, "static")
HOST_DLL = os.path.join(REPO, "src", "Host", "bin", "Release", "net10.0", "PyPE.Host.dll")
SHIM = os.path.join(REPO, "src", "Supervisor", "Shim", "pype_worker.py")
# PYPE_LOAD_SUITE_DLL: another build of the load suite (to measure the suite itself).
ROUND_TRIP = os.path.join(REPO, "artifacts", "round_trip")  # scripts/round_trip.c, built by compare.sh
LOAD_SUITE_DLL = os.environ.get("PYPE_LOAD_SUITE_DLL") or os.path.join(REPO, "loadtests", "bin", "Release", "net10.0", "PyPE.LoadTests.dll")
OPEN_MODEL_WARMUP_SECONDS = 3
ADMIN_PORT = 18190  # the pype setup's admin listener (/metrics, /status)
PORT = {"pype": 18100, "gunicorn": 18200, "nginx_gunicorn": 18300, "uwsgi": 18400, "nginx_uwsgi": 18500, "pype_worker": 18600}
# The proxy hop: each front with the worker server it proxies to, served directly.
HOPS = [("pype", "pype_worker"), ("nginx_gunicorn", "gunicorn"), ("nginx_uwsgi", "uwsgi")]
# Below saturation: the rates the fronts are offered through the load suite (every setup here serves more).
RATES = {"static": 3000, "json": 1000, "page": 300}
RATE_SETUPS = ("pype", "nginx_gunicorn", "nginx_uwsgi")
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


def start(cmd, env=None, cwd=None, stdin=subprocess.DEVNULL):
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def pype_workers(env, workers):
    """PyPE.Exec's own worker shim served directly over TCP (its tcp: mode, SO_REUSEPORT spreads the
    connections over the processes): the host without the host. stdin is a pipe kept open, as the host
    does, so the shim's parent watch sees a live parent."""
    shim_env = dict(env, PYPE_SOCKET="tcp:127.0.0.1:%d" % PORT["pype_worker"], PYPE_WSGI="site1.wsgi:application", PYPE_APP_ROOT=SAMPLE)
    return [start(["/usr/bin/python3", "-u", SHIM], env=dict(shim_env, PYPE_WORKER_ID="direct-%d" % i), cwd=SAMPLE, stdin=subprocess.PIPE)
            for i in range(workers)]


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


def nginx_conf(tmp, port, upstream_block, pass_directive, workers="1"):
    conf = os.path.join(tmp, "nginx-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("""worker_processes %(workers)s; daemon off; pid %(tmp)s/nginx-%(port)d.pid; error_log %(tmp)s/nginx-%(port)d.err warn;
events { worker_connections 1024; }
http { access_log off; include /etc/nginx/mime.types; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path %(tmp)s/body; proxy_temp_path %(tmp)s/proxy; fastcgi_temp_path %(tmp)s/fcgi; uwsgi_temp_path %(tmp)s/uwsgi; scgi_temp_path %(tmp)s/scgi;
  %(upstream)s
  server { listen 127.0.0.1:%(port)d;
    location /static/ { alias %(static)s/; }
    location / { %(pass)s }
  }
}
""" % {"workers": workers, "tmp": tmp, "port": port, "upstream": upstream_block, "pass": pass_directive, "static": STATIC_ROOT})
    return conf


def setups(tmp, workers, nginx_workers="1"):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="site1.settings")
    gsock, usock = os.path.join(tmp, "gunicorn.sock"), os.path.join(tmp, "uwsgi.sock")
    apps = os.path.join(tmp, "apps.d")
    os.makedirs(apps, exist_ok=True)
    # The sample's own pool settings (samples/apps.d/directory.json), with a fixed worker count. PYPE_POOL_PREFETCH
    # overrides pool.prefetch (scripts/host_ab.py measures it as a setting: "PYPE_POOL_PREFETCH=0").
    with open(os.path.join(apps, "directory.json"), "w") as f:
        f.write("""{ "runtime": "system", "root": "%s", "wsgi": "site1.wsgi:application",
  "route": { "pathPrefix": "/apps/directory" }, "env": { "DJANGO_SETTINGS_MODULE": "site1.settings" },
  "static": { "/apps/directory/static": "static" },
  "pool": { "minWorkers": %d, "maxWorkers": %d, "maxQueue": 1000, "prefetch": %d },
  "health": { "intervalSeconds": 0 } }""" % (SAMPLE, workers, workers, int(os.environ.get("PYPE_POOL_PREFETCH", "1"))))
    uwsgi_common = ["uwsgi", "--plugin", "python3", "--master", "--processes", str(workers), "--chdir", SAMPLE,
                    "--module", "site1.wsgi:application", "--disable-logging", "--die-on-term", "--need-app", "--chmod-socket=666"]
    # Said in the answer, so that wrk reconnects instead of counting uWSGI's close as a read error.
    uwsgi_close = ["--add-header", "Connection: close"]
    return {
        # PYPE_HOST_DLL: another build of the host (scripts/host_ab.py compares two builds with it).
        "pype": lambda: [start(["dotnet", os.environ.get("PYPE_HOST_DLL") or HOST_DLL, "--urls", "http://127.0.0.1:%d" % PORT["pype"], "--PyPE:Admin:Urls=http://127.0.0.1:%d" % ADMIN_PORT,
                                "--PyPE:AppsDirectory=" + apps, "--PyPE:Slo:Database=" + os.path.join(tmp, "slo.db"),
                                "--PyPE:RuntimeDirectory=" + os.path.join(tmp, "run"), "--Serilog:MinimumLevel:Default=Warning"])],
        "nginx_gunicorn": lambda: [start(["gunicorn", "-w", str(workers), "-b", "unix:" + gsock, "site1.wsgi:application"], env=env, cwd=SAMPLE),
                                   start(["nginx", "-c", nginx_conf(tmp, PORT["nginx_gunicorn"], "upstream app { server unix:%s; keepalive 16; }" % gsock,
                                                                    "proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host $host;", nginx_workers)])],
        "nginx_uwsgi": lambda: [start(uwsgi_common + ["--socket", usock], env=env),
                                start(["nginx", "-c", nginx_conf(tmp, PORT["nginx_uwsgi"], "upstream app { server unix:%s; }" % usock,
                                                                 "include /etc/nginx/uwsgi_params; uwsgi_pass app;", nginx_workers)])],
        "gunicorn": lambda: [start(["gunicorn", "-w", str(workers), "-b", "127.0.0.1:%d" % PORT["gunicorn"], "site1.wsgi:application"], env=env, cwd=SAMPLE)],
        # --http-socket, not --http11-socket: with keep-alive a uWSGI process stays with one connection, so with
        # more connections than processes wrk measured only the connections being served (latencies below the
        # service time). Without keep-alive each request takes a fresh connection, as with gunicorn's sync workers.
        "uwsgi": lambda: [start(uwsgi_common + uwsgi_close + ["--http-socket", "127.0.0.1:%d" % PORT["uwsgi"]], env=env)],
        "pype_worker": lambda: pype_workers(env, workers),
    }


def url(setup, scenario):
    pype_path, other_path = PATHS[scenario]
    return "http://127.0.0.1:%d%s" % (PORT[setup], pype_path if setup == "pype" else other_path)


def descendants(roots):
    """The pids of the root processes and of everything under them, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def role(pid):
    """'front' for the process that takes the client's connection and proxies (PyPE.Exec's host, nginx), 'workers'
    for the Python side (PyPE.Exec's workers, gunicorn, uWSGI: master and workers together)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if "PyPE.Host.dll" in cmd or cmd.startswith("nginx"):
        return "front"
    return "workers"


def roles(procs):
    """pid -> role of every process of a setup."""
    found = {pid: role(pid) for pid in descendants([p.pid for p in procs])}
    return {pid: r for pid, r in found.items() if r}


def stat_cpu_seconds(stat):
    """user + system CPU seconds from the text of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(by_role):
    """user + system CPU seconds per role, summed over the given processes."""
    total = {"front": 0.0, "workers": 0.0}
    for pid, r in by_role.items():
        try:
            with open("/proc/%d/stat" % pid) as f:
                total[r] += stat_cpu_seconds(f.read())
        except OSError:
            continue
    return total


def rss_mib(by_role):
    """Resident memory per role in MiB, plus the largest single worker process."""
    total, largest_worker = {"front": 0.0, "workers": 0.0}, 0.0
    for pid, r in by_role.items():
        try:
            with open("/proc/%d/status" % pid) as f:
                kib = int(re.search(r"^VmRSS:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        total[r] += kib / 1024
        if r == "workers":
            largest_worker = max(largest_worker, kib / 1024)
    total["worker_max"] = largest_worker
    return total


def milliseconds(value, unit):
    """A wrk duration ('412.5', 'us') in milliseconds."""
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(target, seconds, connections, procs=None, headers=()):
    """One wrk run (each of headers sent with every request); with procs, also the CPU each role spent per request
    and the memory they held mid-run."""
    by_role = roles(procs) if procs else {}
    cpu_before = cpu_seconds(by_role)
    header_args = [arg for header in headers for arg in ("-H", header)]
    run = subprocess.Popen(["wrk", "-t%d" % min(2, connections), "-c%d" % connections, "-d%ds" % seconds, "--latency", *header_args, target], stdout=subprocess.PIPE, text=True)
    time.sleep(seconds / 2)
    rss = rss_mib(by_role)
    out = run.communicate(timeout=seconds + 60)[0]
    cpu_after = cpu_seconds(by_role)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    avg = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", out)
    lat = {}
    for p in ("50", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, out, re.M)
        lat[p] = milliseconds(m.group(1), m.group(2))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "requests": requests, "avg": milliseconds(avg.group(1), avg.group(2)), "p50": lat["50"], "p90": lat["90"], "p99": lat["99"], "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "",
            "front_us": (cpu_after["front"] - cpu_before["front"]) * 1e6 / max(requests, 1),
            "workers_us": (cpu_after["workers"] - cpu_before["workers"]) * 1e6 / max(requests, 1),
            "front_mib": rss["front"], "worker_mib": rss["worker_max"]}


def round_trip():
    """The floor under any proxy hop: mean, p50 and p99 µs of one round trip between two processes over a Unix
    socket (scripts/round_trip.c); None when compare.sh has not built it or it failed (said on stderr)."""
    if not os.path.exists(ROUND_TRIP):
        return None
    run = subprocess.run([ROUND_TRIP], capture_output=True, text=True)
    if run.returncode != 0:
        print("round_trip failed (%d): %s" % (run.returncode, run.stderr.strip()), file=sys.stderr)
        return None
    mean, p50, p99 = run.stdout.split()[1:]
    return {"mean": float(mean), "p50": float(p50), "p99": float(p99)}


def open_model(target, rate, seconds, tmp, procs=None):
    """One constant-rate run of the load suite (open model: latency from each request's intended start); keys as
    wrk's result, plus p99.9, the suite's own CPU per request and how late it started requests (p99). The suite's
    own warm-up keeps its first seconds out of the latencies: a fresh .NET client compiles its code and opens its
    connections then. CPU is read around the whole run, so the warm-up's requests are counted too (below
    saturation every one of them is answered)."""
    parts = urllib.parse.urlsplit(target)
    out = os.path.join(tmp, "loadtest")
    by_role = roles(procs) if procs else {}
    cpu_before, client_before = cpu_seconds(by_role), resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)  # never read an earlier run's report
    run = subprocess.run(["dotnet", LOAD_SUITE_DLL, "--target", "%s://%s" % (parts.scheme, parts.netloc), "--scenario", "run=dynamic:%s@%s" % (parts.path, rate),
                          "--warmup", str(OPEN_MODEL_WARMUP_SECONDS), "--duration", str(seconds), "--out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=seconds + 120)
    report = os.path.join(out, "report.json")
    if run.returncode not in (0, 1) or not os.path.exists(report):  # 1 with a report: a threshold failed
        raise RuntimeError("the load suite failed (exit %d) against %s: %s" % (run.returncode, target, run.stderr.strip()[-2000:]))
    # The suite is the only child that ends (and is waited for) in between: the delta is its CPU alone.
    cpu_after, client_after = cpu_seconds(by_role), resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(report) as f:
        scenario = json.load(f)["scenarios"][0]
    latency = scenario["latencyPercentilesMs"]
    requests = max(scenario["completed"] + round(rate * OPEN_MODEL_WARMUP_SECONDS), 1)
    client = (client_after.ru_utime + client_after.ru_stime) - (client_before.ru_utime + client_before.ru_stime)
    return {"rps": scenario["throughputPerSecond"], "requests": requests, "p50": latency["50"], "p90": latency["90"], "p99": latency["99"],
            "p999": latency["99.9"], "errors": scenario["errors"], "dropped": scenario["dropped"],
            "front_us": (cpu_after["front"] - cpu_before["front"]) * 1e6 / requests,
            "workers_us": (cpu_after["workers"] - cpu_before["workers"]) * 1e6 / requests,
            "client_us": client * 1e6 / requests, "start_lag_p99": scenario.get("startLagPercentilesMs", {}).get("99", float("nan"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before each measured run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nginx-workers", default="1", help="nginx's worker_processes (a number or auto; 1 by default: on 2 cores shared with wrk"
                        " and the Python workers a second one measured no faster, BENCHMARKS.md)")
    parser.add_argument("--setups", default="pype,nginx_gunicorn,nginx_uwsgi,pype_worker,gunicorn,uwsgi")
    parser.add_argument("--scenarios", default=",".join(PATHS), help="saturation runs per setup, of %s (empty: none, e.g. for the hop table alone)" % ", ".join(PATHS))
    parser.add_argument("--hop-seconds", type=int, default=5, help="one-connection run per setup for the proxy-hop table (0: skip)")
    parser.add_argument("--rate-seconds", type=int, default=8, help="fixed-rate run per front and request below saturation, through the load suite (0: skip)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pype-compare-")
    os.chmod(tmp, 0o755)  # nginx's worker processes (not root) reach the sockets in here
    for d in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    chosen = args.setups.split(",")
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = [s for s in scenarios if s not in PATHS]
    if unknown:
        parser.error("unknown scenario(s) %s; known: %s" % (", ".join(unknown), ", ".join(PATHS)))
    factories = setups(tmp, args.workers, args.nginx_workers)
    results = {}  # (setup, scenario) -> [runs]
    rated_runs = {}  # (setup, scenario) -> [fixed-rate runs]
    idle = {}  # setup -> [memory right after start, per round]
    floors = []  # round_trip() per round
    try:
        for round_ in range(1, args.rounds + 1):
            if args.hop_seconds and (floor := round_trip()):
                floors.append(floor)
                print("round %d round trip between two processes  mean %.1f  p50 %.1f  p99 %.1f us" % (round_, floor["mean"], floor["p50"], floor["p99"]), flush=True)
            # Each round starts with a different setup: the machine's state drifts during a run, and a fixed order
            # would hand the same position in every round to the same setup.
            shift = (round_ - 1) % len(chosen)
            for setup in chosen[shift:] + chosen[:shift]:
                procs = factories[setup]()
                try:
                    wait_http(url(setup, "json"))
                    idle.setdefault(setup, []).append(rss_mib(roles(procs)))
                    for scenario in scenarios:
                        if scenario == "static" and setup in ("gunicorn", "uwsgi", "pype_worker"):
                            continue  # a worker server alone does not serve the static folder
                        # Warm-up: .NET's tiered JIT needs a few seconds of traffic to finish, Python nothing.
                        wrk(url(setup, scenario), args.warmup, args.connections)
                        r = wrk(url(setup, scenario), args.seconds, args.connections, procs)
                        results.setdefault((setup, scenario), []).append(r)
                        print("round %d %-15s %-6s %9.0f req/s  p50 %7.2f  p90 %7.2f  p99 %7.2f ms  cpu/req front %6.1f workers %6.1f us  non-2xx %d %s" % (
                            round_, setup, scenario, r["rps"], r["p50"], r["p90"], r["p99"], r["front_us"], r["workers_us"], r["non2xx"], r["socket_errors"]), flush=True)
                    if args.rate_seconds and setup in RATE_SETUPS:
                        for scenario, rate in ((k, v) for k, v in RATES.items() if k in scenarios):
                            r = open_model(url(setup, scenario), rate, args.rate_seconds, tmp, procs)
                            rated_runs.setdefault((setup, scenario), []).append(r)
                            print("round %d %-15s %-6s at %d/s  p50 %7.2f  p99 %7.2f  p99.9 %7.2f ms  cpu/req front %6.1f workers %6.1f us  errors %d dropped %d  client start lag p99 %.2f ms" % (
                                round_, setup, scenario, rate, r["p50"], r["p99"], r["p999"], r["front_us"], r["workers_us"], r["errors"], r["dropped"], r["start_lag_p99"]), flush=True)
                    if args.hop_seconds and any(setup in pair for pair in HOPS):
                        # One connection, one request at a time: the latency is the service time, and a
                        # front's latency minus its worker server's is what the hop costs.
                        wrk(url(setup, "json"), args.warmup, 1)  # the JIT, when no saturation run came first
                        r = wrk(url(setup, "json"), args.hop_seconds, 1, procs)
                        results.setdefault((setup, "hop"), []).append(r)
                        print("round %d %-15s hop    avg %7.3f ms  p50 %7.3f  p99 %7.3f ms  %9.0f req/s" % (round_, setup, r["avg"], r["p50"], r["p99"], r["rps"]), flush=True)
                finally:
                    stop(procs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rated = {k: {m: statistics.median(r[m] for r in runs) for m in ("p50", "p90", "p99", "p999", "front_us", "workers_us", "client_us", "start_lag_p99")}
             | {"lost": sum(r["errors"] + r["dropped"] for r in runs)} for k, runs in rated_runs.items()}
    med = {k: {m: statistics.median(r[m] for r in runs) for m in ("rps", "avg", "p50", "p90", "p99", "front_us", "workers_us", "front_mib", "worker_mib")}
           for k, runs in results.items()}
    trouble = {k: "; ".join(sorted({("non-2xx %d" % r["non2xx"] if r["non2xx"] else "") + (" socket errors: " + r["socket_errors"] if r["socket_errors"] else "") for r in runs} - {""})) for k, runs in results.items()}
    print("\nThe proxy hop: the trivial JSON view over one connection, one request at a time (medians over the rounds of"
          " each run's mean latency, and of its p50: the mean carries the tail, the p50 the usual request):\n")
    print("| front | its worker server served directly | front ms | direct ms | hop µs | hop / direct | hop µs at p50 | hop / direct at p50 | front CPU µs/req |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for front, direct in HOPS:
        if (front, "hop") in med and (direct, "hop") in med:
            f, d = med[(front, "hop")]["avg"], med[(direct, "hop")]["avg"]
            f50, d50 = med[(front, "hop")]["p50"], med[(direct, "hop")]["p50"]
            print("| %s | %s | %.3f | %.3f | %.0f | %.1f %% | %.0f | %.1f %% | %.0f |" % (
                front, direct, f, d, (f - d) * 1000, (f - d) / d * 100, (f50 - d50) * 1000, (f50 - d50) / d50 * 100, med[(front, "hop")]["front_us"]))
    if floors:
        mean, p50 = statistics.median(f["mean"] for f in floors), statistics.median(f["p50"] for f in floors)
        print("\nThe floor under any front in a process of its own: one round trip between two processes over a Unix socket"
              " (scripts/round_trip.c, 300 bytes each way, nothing else done) took %.0f µs mean, %.0f µs at p50 (medians of %d"
              " rounds)." % (mean, p50, len(floors)))
        if ("pype_worker", "hop") in med:
            d, d50 = med[("pype_worker", "hop")]["avg"] * 1000, med[("pype_worker", "hop")]["p50"] * 1000
            print("That alone is %.0f %% of PyPE.Exec's worker served directly (%.0f %% at p50); a 10 %% hop would have to cost"
                  " %.0f µs." % (mean / d * 100, p50 / d50 * 100, d / 10))
    saturated = any(scenario in PATHS for _, scenario in med)
    if saturated:
        print("\n| request | setup | req/s (median of %d) | p50 ms | p90 ms | p99 ms | PyPE.Exec / this (req/s) | same, per round (lowest–highest) | errors |" % args.rounds)
        print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for scenario in PATHS:
        for setup in chosen:
            if (setup, scenario) not in med:
                continue
            m = med[(setup, scenario)]
            ratio = med[("pype", scenario)]["rps"] / m["rps"] if ("pype", scenario) in med else float("nan")
            # The ratio within each round (both measured minutes apart) shows how far the VM's drift moves it.
            per_round = [a["rps"] / b["rps"] for a, b in zip(results.get(("pype", scenario), []), results[(setup, scenario)])]
            spread = "%.2f–%.2f×" % (min(per_round), max(per_round)) if per_round else "—"
            print("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f× | %s | %s |" % (scenario, setup, m["rps"], m["p50"], m["p90"], m["p99"], ratio, spread, trouble[(setup, scenario)] or "none"))
    if rated:
        print("\nBelow saturation: each front offered a fixed rate through the load suite (open model, latency from each"
              " request's intended start; %d s after %d s not counted; medians over the rounds):\n" % (args.rate_seconds, OPEN_MODEL_WARMUP_SECONDS))
        print("| request | rate/s | setup | p50 ms | p90 ms | p99 ms | p99.9 ms | PyPE.Exec p99 / this | front CPU µs/req | workers CPU µs/req | errors + dropped | client start lag p99 ms |")
        print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for scenario, rate in RATES.items():
            for setup in chosen:
                if (setup, scenario) in rated:
                    m = rated[(setup, scenario)]
                    ratio = rated[("pype", scenario)]["p99"] / m["p99"] if ("pype", scenario) in rated and m["p99"] else float("nan")
                    print("| %s | %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f× | %.0f | %.0f | %d | %.2f |" % (
                        scenario, rate, setup, m["p50"], m["p90"], m["p99"], m["p999"], ratio, m["front_us"], m["workers_us"], m["lost"], m["start_lag_p99"]))
        print("\nThe load suite itself: %s µs of CPU per request (medians per request kind, its start-up included)." % ", ".join(
            "%s %.0f" % (scenario, statistics.median(m["client_us"] for (_, kind), m in rated.items() if kind == scenario))
            for scenario in RATES if any(kind == scenario for _, kind in rated)))
    if saturated:
        print("\nCPU per request and memory (medians; 'front' = the process that takes the client: PyPE.Exec's host or nginx;"
              " 'workers' = all Python-side processes; memory sampled half-way through the run):\n")
        print("| request | setup | front CPU µs/req | workers CPU µs/req | front RSS MiB under load | largest worker RSS MiB |")
        print("|---|---|---:|---:|---:|---:|")
    for scenario in PATHS:
        for setup in chosen:
            if (setup, scenario) in med:
                m = med[(setup, scenario)]
                front = "%.0f" % m["front_us"] if m["front_mib"] else "—"
                print("| %s | %s | %s | %.0f | %s | %.1f |" % (scenario, setup, front, m["workers_us"], "%.1f" % m["front_mib"] if m["front_mib"] else "—", m["worker_mib"]))
    idle_lines = []
    for setup in chosen:
        if setup in idle:
            front = statistics.median(x["front"] for x in idle[setup])
            idle_lines.append("%s front %s MiB, largest worker %.1f MiB" % (
                setup, "%.1f" % front if front else "—", statistics.median(x["worker_max"] for x in idle[setup])))
    print("\nIdle right after start (median): " + "; ".join(idle_lines))
    print("\n%d Python workers per setup (nginx: worker_processes %s); wrk -t2 -c%d, %d s per run after a %d s warm-up; client and servers share %d cores." % (
        args.workers, args.nginx_workers, args.connections, args.seconds, args.warmup, os.cpu_count()))
    failed = {k: v for k, v in trouble.items() if v} | {k: "%d errors or dropped at a fixed rate" % r["lost"] for k, r in rated.items() if r["lost"]}
    if failed:
        # A ratio over answers that were not pages (a 403 from a folder nginx cannot read, a 502) compares nothing.
        print("\nNOT A VALID COMPARISON: some setups did not answer every request with a page: " + "; ".join(
            "%s %s: %s" % (setup, scenario, why) for (setup, scenario, *_), why in sorted(failed.items(), key=str)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
