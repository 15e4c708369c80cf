namespace Coordination.Aspects.Tests.Behaviour;

public sealed record Customer(string? Region);

public sealed record Order(int Id, Customer? Customer);

/// <summary>Counts runs and the most calls ever inside at once; optionally parks inside until released.</summary>
public sealed class Probe
{
    private int _inside;
    private int _maxInside;
    private int _runs;

    public int MaxInside => Volatile.Read(ref _maxInside);

    public int Runs => Volatile.Read(ref _runs);

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Parks { get; init; }

    public async Task StepAsync(CancellationToken cancellationToken = default)
    {
        var inside = Interlocked.Increment(ref _inside);
        Interlocked.Increment(ref _runs);
        int max;
        while (inside > (max = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, inside, max) != max)
        {
        }

        try
        {
            Entered.TrySetResult();
            if (Parks)
            {
                await Release.Task.WaitAsync(cancellationToken);
            }

            // Give other callers every chance to interleave if exclusion were broken.
            for (var i = 0; i < 3; i++)
            {
                await Task.Yield();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }
}

/// <summary>A service whose methods are guarded by the generated [Singleton] interceptors of this test project.</summary>
public class GuardedService
{
    [Singleton("permits:{name}", MaxConcurrency = 2)]
    public async Task TwoAtATimeAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("settings:{name}", Access = LockAccess.Read)]
    public async Task ReadSettingsAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("shape:{name}")]
    public async Task TaskAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("shape:{name}")]
    public async Task<int> TaskOfTAsync(string name, Probe probe)
    {
        await probe.StepAsync();
        return name.Length;
    }

    [Singleton("shape:{name}")]
    public async ValueTask ValueTaskAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("shape:{name}")]
    public async ValueTask<string> ValueTaskOfTAsync(string name, Probe probe)
    {
        await probe.StepAsync();
        return name;
    }

    [Singleton("shape:{name}")]
    public static async Task StaticAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("shape:{name}")]
    public async Task<T> GenericAsync<T>(string name, T value, Probe probe)
    {
        await probe.StepAsync();
        return value;
    }

    // Not an async method: returns the probe's task directly.
    [Singleton("shape:{name}")]
    public Task PlainTaskAsync(string name, Probe probe) => probe.StepAsync();

    [Singleton("hold:{name}", Timeout = "0")]
    public async Task<int> TryOnceAsync(string name, Probe probe)
    {
        await probe.StepAsync();
        return 1;
    }

    [Singleton("hold:{name}", OnContention = LockContention.Skip)]
    public async Task<int?> SkipAsync(string name, Probe probe)
    {
        await probe.StepAsync();
        return 7;
    }

    [Singleton("hold:{name}", OnContention = LockContention.Skip)]
    public async ValueTask SkipVoidAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("hold:{name}")]
    public async Task HoldAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("hold:{name}", Timeout = "00:00:00.050")]
    public async Task TryBrieflyAsync(string name, Probe probe) => await probe.StepAsync();

    [Singleton("orders:{order.Id}:{order.Customer.Region}")]
    public Task<string> OrderAsync(Order order) => Task.FromResult($"paid {order.Id}");

    [Singleton("tenants:{tenantId}:{ratio}:{{literal}}")]
    public Task TenantAsync(string tenantId, double ratio) => Task.CompletedTask;

    [Singleton("lost:{name}")]
    public async Task WaitForCancellationAsync(string name, Probe probe, CancellationToken cancellationToken) =>
        await probe.StepAsync(cancellationToken);

    /// <summary>Calls a private marked method from inside the class: guarded through a generated UnsafeAccessor.</summary>
    public Task<string> CallPrivateAsync(string name, Probe probe) => PrivateAsync(name, probe);

    [Singleton("shape:{name}")]
    private async Task<string> PrivateAsync(string name, Probe probe)
    {
        await probe.StepAsync();
        return name;
    }

    [Singleton("fail:{name}")]
    public async Task<int> FailAsync(string name, Exception error)
    {
        await Task.Yield();
        throw error;
    }

    [Singleton("fail:{name}")]
    public Task FailSynchronouslyAsync(string name, Exception error) => throw error;
}

public static class GuardedServiceExtensions
{
    [Singleton("shape:{name}")]
    public static async Task ExtensionAsync(this GuardedService service, string name, Probe probe)
    {
        ArgumentNullException.ThrowIfNull(service);
        await probe.StepAsync();
    }
}

/// <summary>Marked on the interface: calls through the interface are guarded.</summary>
public interface IGuardedJobs
{
    [Singleton("shape:{name}")]
    Task RunAsync(string name, Probe probe);
}

public sealed class GuardedJobs : IGuardedJobs
{
    public Task RunAsync(string name, Probe probe) => probe.StepAsync();
}

/// <summary>A generic type with a generic marked method, optional parameter included.</summary>
public class GuardedRepository<TItem>
    where TItem : class
{
    [Singleton("shape:{name}")]
    public async Task<TItem> SaveAsync<TExtra>(string name, TItem item, TExtra extra, Probe probe, int attempt = 1)
    {
        ArgumentNullException.ThrowIfNull(extra);
        await probe.StepAsync();
        return attempt > 0 ? item : throw new ArgumentOutOfRangeException(nameof(attempt));
    }
}
