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

    [Benchmark]
    public void AcquireReleaseUnderContention()
    {
        Parallel.For(0, 64, _ =>
        {
            var task = _dispatcher.AcquireAsync(CancellationToken.None);
            var slot = task.IsCompletedSuccessfully ? task.Result : task.AsTask().GetAwaiter().GetResult();
            if (slot.Worker is { } worker)
            {
                _dispatcher.Release(worker);
            }
        });
    }
}
