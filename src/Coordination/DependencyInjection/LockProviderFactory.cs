using Coordination.Locks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coordination.DependencyInjection;

/// <summary>Builds the lock provider for the configured <see cref="LockMode"/>.</summary>
internal static class LockProviderFactory
{
    public static IDistributedLockProvider Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<HybridCoordinationOptions>>();
        return options.Value.Mode switch
        {
            LockMode.InProcess => new InProcessLockProvider(options, sp.GetRequiredService<TimeProvider>()),
            var m => throw new NotSupportedException($"Lock mode {m} is not built yet."),
        };
    }
}
