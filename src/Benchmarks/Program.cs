using BenchmarkDotNet.Running;

// dotnet run -c Release --project src/Benchmarks -- --filter '*'   (see BENCHMARKS.md)
BenchmarkSwitcher.FromAssembly(typeof(PyPE.Benchmarks.DispatcherBenchmarks).Assembly).Run(args);
