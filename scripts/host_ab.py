#!/usr/bin/env python3
"""A/B of host settings on one request kind: PyPE.Exec with the Django sample (2 workers), started fresh for each
run, one host at a time, the settings taken in turns for several rounds. Per run: throughput, p50 and p99, the
host's CPU per request (the whole process) and its context switches per request, split by thread (thread-pool
workers, socket event thread ...; counted over the threads alive at the end of the run: a retired pool thread's
switches are missing), and for dynamic requests the share that waited in the host's queue for a worker more than
1 ms and more than 50 ms (from the host's own queue-wait histogram).

    python3 scripts/host_ab.py --rounds 5 --path /apps/directory/api/ping -- "" "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"

Each setting is a space-separated list of environment assignments ("" = the defaults); host configuration keys
work the same way (PyPE__Key=value). These assignments are the script's own:
  PYPE_HOST_DLL=<path to another build's PyPE.Host.dll>  compares two builds (e.g. one from
      `git worktree add /tmp/old <commit>` built with `dotnet build src/Host -c Release`);
  PYPE_LOAD_SUITE_DLL=<path>  (in the script's own environment, not a setting) another build of the load suite;
  PYPE_POOL_PREFETCH=<n>  the sample app's pool.prefetch (default 1, as in samples/apps.d/directory.json);
  PRELUDE=<path>  loads that path for 10 s (wrk -c16) before the warm-up, e.g. the static file before the page.
--connections 1 measures one request at a time (the latency is the service time). --rate N offers N requests/s
instead of wrk's closed loop (the load suite's open-model runner, latency from each request's intended start):
the host's CPU per request below saturation, where most hosts spend their day, and the suite's own CPU per request and
how late it started requests (it shares the cores with the host; build loadtests first:
`dotnet build loadtests -c Release`). Run scripts/compare.sh once
first (it installs wrk and builds the host). Medians at the end: on a shared VM a single run says little."""
import argparse, collections, os, re, shutil, statistics, sys, tempfile, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ADMIN_PORT, PORT, open_model, setups, stat_cpu_seconds, stop, url, wait_http, wrk  # noqa: E402

PRELUDE_SECONDS = 10


def threads(pid):
    """tid -> (thread name, CPU seconds, context switches) for the host's live threads."""
    by_tid = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                switches = sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", f.read()))
        except OSError:
            continue
        by_tid[tid] = (stat[stat.index("(") + 1:stat.rindex(")")], stat_cpu_seconds(stat), switches)
    return by_tid


def per_thread_name(before, after, requests):
    """thread name -> (CPU µs, context switches) per request, over the threads alive at the end of the run (a
    thread-pool thread that retired during the run is missing here; the CPU total is compare.py's front CPU, read
    from the process's own counter)."""
    split = collections.defaultdict(lambda: [0.0, 0.0])
    for tid, (name, cpu, switches) in after.items():
        _, cpu0, switches0 = before.get(tid, (name, 0.0, 0))
        split[name][0] += (cpu - cpu0) * 1e6 / requests
        split[name][1] += (switches - switches0) / requests
    return split


def queue_waits():
    """le -> requests of the sample app's dispatcher queue-wait histogram, from the host's admin /metrics."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % ADMIN_PORT, timeout=10) as response:
        text = response.read().decode()
    return {float(le): float(count) for le, count in re.findall(r'^pype_queue_wait_seconds_bucket\{app="directory",[^}]*le="([^"]+)"\} (\S+)$', text, re.M)}


def waited_longer(before, after):
    """Shares of the run's dynamic requests that waited more than 1 ms and more than 50 ms for a worker."""
    total = after.get(float("inf"), 0) - before.get(float("inf"), 0)
    if not total:
        return None
    return tuple(1 - (after.get(le, 0) - before.get(le, 0)) / total for le in (0.001, 0.05))


def with_etag(headers, target):
    """The headers with "{etag}" replaced by the ETag the target answers with now (for conditional requests)."""
    if not any("{etag}" in h for h in headers):
        return headers
    with urllib.request.urlopen(target, timeout=10) as response:
        etag = response.headers["ETag"]
    if etag is None:
        sys.exit("host_ab: %s answered without an ETag, so {etag} has nothing to stand for" % target)
    return [h.replace("{etag}", etag) for h in headers]


def measure(setting, path, seconds, warmup, connections, rate, tmp, headers=()):
    assignments = dict(a.split("=", 1) for a in setting.split())
    prelude = assignments.pop("PRELUDE", None)
    saved = dict(os.environ)
    os.environ.update(assignments)
    try:
        procs = setups(tmp, 2)["pype"]()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        target = "http://127.0.0.1:%d%s" % (PORT["pype"], path)
        wait_http(url("pype", "json"))
        if prelude:
            wrk("http://127.0.0.1:%d%s" % (PORT["pype"], prelude), PRELUDE_SECONDS, 16)
        headers = with_etag(headers, target)
        if warmup > 0:  # 0: measure from a cold host (the first requests, .NET's JIT at work)
            wrk(target, warmup, connections, headers=headers)
        host = procs[0].pid
        before, waits_before = threads(host), queue_waits()
        # With procs, both measure the host's CPU per request (the 'front' role) from its process counter.
        r = open_model(target, rate, seconds, tmp, procs) if rate else wrk(target, seconds, connections, procs, headers)
        if r.get("errors") or r.get("dropped"):
            print("  (load suite: %d errors, %d dropped)" % (r["errors"], r["dropped"]), file=sys.stderr)
        after, waits_after = threads(host), queue_waits()
        split = per_thread_name(before, after, max(r["requests"], 1))
        return (r["rps"], r["p50"], r["p99"], r["front_us"], sum(s for _, s in split.values()), split,
                waited_longer(waits_before, waits_after), r.get("client_us"), r.get("start_lag_p99"))
    finally:
        stop(procs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=8, help="seconds of wrk load before each measured run (0: none, a cold host)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--path", default="/apps/directory/api/ping")
    parser.add_argument("--rate", type=float, help="requests per second through the load suite instead of wrk -c CONNECTIONS")
    parser.add_argument("--header", action="append", default=[], help='sent with every request by wrk, e.g. "If-None-Match: {etag}" ({etag}: the ETag the path answers with)')
    parser.add_argument("settings", nargs="+", help='environment assignments per setting, "" for the defaults')
    args = parser.parse_args()
    if args.header and args.rate:
        parser.error("--header goes to wrk; the load suite (--rate) sends its own requests")
    tmp = tempfile.mkdtemp(prefix="pype-host-ab-")
    results = collections.defaultdict(list)
    try:
        for round_ in range(1, args.rounds + 1):
            for setting in args.settings:
                rps, p50, p99, cpu, switches, split, waited, client_cpu, lag = measure(setting, args.path, args.seconds, args.warmup, args.connections, args.rate, tmp, args.header)
                results[setting].append((rps, p50, p99, cpu, switches))
                busiest = ", ".join("%s %.0f µs %.1f sw" % (n, c, s) for n, (c, s) in sorted(split.items(), key=lambda x: -x[1][0])[:3])
                queue = "  queued > 1 ms %.1f %%, > 50 ms %.2f %%" % (100 * waited[0], 100 * waited[1]) if waited else ""
                client = "  client %.0f µs/req, start lag p99 %.2f ms" % (client_cpu, lag) if client_cpu is not None else ""
                print("round %d [%s] %7.0f req/s  p50 %6.2f  p99 %6.2f ms  host %6.1f µs/req  %5.1f switches/req%s%s  (%s)" % (
                    round_, setting or "defaults", rps, p50, p99, cpu, switches, queue, client, busiest), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| setting | req/s | p50 ms | p99 ms | host CPU µs/req | context switches/req |\n|---|---:|---:|---:|---:|---:|")
    for setting, runs in results.items():
        print("| %s | %.0f | %.2f | %.2f | %.0f | %.1f |" % (setting or "defaults", *(statistics.median(r[i] for r in runs) for i in range(5))))
    load = "the load suite at %g requests/s" % args.rate if args.rate else "wrk -c%d" % args.connections
    warmup = "%d s of warm-up (wrk -c%d)" % (args.warmup, args.connections) if args.rate else "%d s of warm-up" % args.warmup
    print("\nMedians of %d rounds, %d s each after %s, %s %s%s." % (args.rounds, args.seconds, warmup, load, args.path,
                                                                 "".join(" -H '%s'" % h for h in args.header)))


if __name__ == "__main__":
    sys.exit(main())
