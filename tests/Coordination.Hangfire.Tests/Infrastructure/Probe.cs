using System.Collections.Concurrent;
using Coordination.Testing;

namespace Coordination.Hangfire.Tests.Infrastructure;

/// <summary>What one test's jobs observed: how many ran, how many ran at once, what they saw of their lock.</summary>
public sealed class Probe
{
    private static readonly ConcurrentDictionary<string, Probe> All = new();
    private int _current;
    private int _max;
    private int _runs;

    public static string NewRun() => TestNamespace.NewId();

    public static Probe For(string run) => All.GetOrAdd(run, _ => new Probe());

    public int Current => Volatile.Read(ref _current);

    public int MaxConcurrent => Volatile.Read(ref _max);

    public int Runs => Volatile.Read(ref _runs);

    public ConcurrentQueue<string> Events { get; } = new();

    public ConcurrentQueue<string> Keys { get; } = new();

    public ConcurrentQueue<long> FencingTokens { get; } = new();

    public ManualResetEventSlim Started { get; } = new();

    public ManualResetEventSlim Gate { get; } = new();

    public volatile bool JobTokenCancelled;
    public volatile bool LockTokenCancelled;
    public volatile bool ContextsAgree;

    public IDisposable Enter(string name = "")
    {
        Interlocked.Increment(ref _runs);
        var now = Interlocked.Increment(ref _current);
        int max;
        while (now > (max = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, max) != max)
        {
        }

        Events.Enqueue("enter:" + name);
        Started.Set();
        return new Exit(this, name);
    }

    private sealed class Exit(Probe probe, string name) : IDisposable
    {
        public void Dispose()
        {
            probe.Events.Enqueue("exit:" + name);
            Interlocked.Decrement(ref probe._current);
        }
    }
}
