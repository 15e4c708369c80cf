using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Coordination.AspNetCore.Benchmarks.EndpointLockBenchmarks).Assembly).Run(args);
