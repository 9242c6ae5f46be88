#!/usr/bin/env python3
"""A/B of host settings on one request kind: PyPE.Exec with the Django sample (2 workers), started fresh for each
run, one host at a time, the settings taken in turns for several rounds. Per run: throughput, p50 and p99, the
host's CPU per request and its context switches per request, split by thread (thread-pool workers, socket event
thread ...).

    python3 scripts/host_ab.py --rounds 5 --path /apps/directory/api/ping -- "" "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0"

Each setting is a space-separated list of environment assignments ("" = the defaults); host configuration keys
work the same way (PyPE__Key=value). Two assignments are the script's own:
  PYPE_HOST_DLL=<path to another build's PyPE.Host.dll>  compares two builds (e.g. one from
      `git worktree add /tmp/old <commit>` built with `dotnet build src/Host -c Release`);
  PRELUDE=<path>  loads that path for 10 s (wrk -c16) before the warm-up, e.g. the static file before the page.
--connections 1 measures one request at a time (the latency is the service time). Run scripts/compare.sh once
first (it installs wrk and builds the host). Medians at the end: on a shared VM a single run says little."""
import argparse, collections, os, re, shutil, statistics, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import PORT, setups, stat_cpu_seconds, stop, url, wait_http, wrk  # noqa: E402

PRELUDE_SECONDS = 10


def threads(pid):
    """thread name -> [CPU seconds, context switches] summed over the host's threads."""
    by_name = collections.defaultdict(lambda: [0.0, 0])
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                switches = sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", f.read()))
        except OSError:
            continue
        entry = by_name[stat[stat.index("(") + 1:stat.rindex(")")]]
        entry[0] += stat_cpu_seconds(stat)
        entry[1] += switches
    return by_name


def measure(setting, path, seconds, warmup, connections, tmp):
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
        wrk(target, warmup, connections)
        host = procs[0].pid
        before = threads(host)
        r = wrk(target, seconds, connections)
        after = threads(host)
        requests = max(r["requests"], 1)
        split = {name: ((after[name][0] - before.get(name, [0, 0])[0]) * 1e6 / requests, (after[name][1] - before.get(name, [0, 0])[1]) / requests)
                 for name in after}
        return r["rps"], r["p50"], r["p99"], sum(c for c, _ in split.values()), sum(s for _, s in split.values()), split
    finally:
        stop(procs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--path", default="/apps/directory/api/ping")
    parser.add_argument("settings", nargs="+", help='environment assignments per setting, "" for the defaults')
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="pype-host-ab-")
    results = collections.defaultdict(list)
    try:
        for round_ in range(1, args.rounds + 1):
            for setting in args.settings:
                rps, p50, p99, cpu, switches, split = measure(setting, args.path, args.seconds, args.warmup, args.connections, tmp)
                results[setting].append((rps, p50, p99, cpu, switches))
                busiest = ", ".join("%s %.0f µs %.1f sw" % (n, c, s) for n, (c, s) in sorted(split.items(), key=lambda x: -x[1][0])[:3])
                print("round %d [%s] %7.0f req/s  p50 %6.2f  p99 %6.2f ms  host %6.1f µs/req  %5.1f switches/req  (%s)" % (
                    round_, setting or "defaults", rps, p50, p99, cpu, switches, busiest), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| setting | req/s | p50 ms | p99 ms | host CPU µs/req | context switches/req |\n|---|---:|---:|---:|---:|---:|")
    for setting, runs in results.items():
        print("| %s | %.0f | %.2f | %.2f | %.0f | %.1f |" % (setting or "defaults", *(statistics.median(r[i] for r in runs) for i in range(5))))
    print("\nMedians of %d rounds, %d s each after %d s of warm-up, wrk -c%d %s." % (
        args.rounds, args.seconds, args.warmup, args.connections, args.path))


if __name__ == "__main__":
    sys.exit(main())
