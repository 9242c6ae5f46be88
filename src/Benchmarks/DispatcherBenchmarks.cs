using BenchmarkDotNet.Attributes;
using PyPE.Supervisor.Pools;
using PyPE.Supervisor.Workers;

namespace PyPE.Benchmarks;

/// <summary>The worker slot on the request path: acquire (free slot, synchronous) and release.</summary>
[MemoryDiagnoser]
public class DispatcherBenchmarks
{
    private WorkerDispatcher _dispatcher = null!;

    [Params(2, 8)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dispatcher = new WorkerDispatcher(100, TimeSpan.FromSeconds(30), TimeProvider.System);
        for (var i = 0; i < Workers; i++)
        {
            var worker = new Worker($"w{i}", "bench", $"/tmp/w{i}.sock", 1, 0, TimeProvider.System);
            worker.TryMove(WorkerState.Ready);
            _dispatcher.Add(worker);
        }
    }

    [Benchmark(Baseline = true)]
    public void AcquireRelease()
    {
        var task = _dispatcher.AcquireAsync(CancellationToken.None);
        // With free slots the acquire completes synchronously; that fast path is what is measured.
        var slot = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
        _dispatcher.Release(slot.Worker!);
    }

    /// <summary>
    /// One acquire and release per operation, from as many threads as there are cores at once, all on the same
    /// dispatcher (its lock is what they contend for). Threads are started once per invocation and each does
    /// many operations, so thread start-up is amortised instead of measured.
    /// </summary>
    [Benchmark(OperationsPerInvoke = ContendedOperations)]
    public void AcquireReleaseUnderContention()
    {
        var threads = Environment.ProcessorCount;
        var perThread = ContendedOperations / threads;
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                var task = _dispatcher.AcquireAsync(CancellationToken.None);
                var slot = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
                if (slot.Worker is { } worker)
                {
                    _dispatcher.Release(worker);
                }
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
    }

    private const int ContendedOperations = 200_000;
}
