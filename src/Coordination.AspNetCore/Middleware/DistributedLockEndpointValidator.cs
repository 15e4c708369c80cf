using Coordination.Locks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Checks every endpoint's lock declaration before the host starts serving, so a template naming a value the
/// endpoint cannot supply fails the start with a message naming the endpoint and the placeholder, instead of
/// failing requests. Endpoints added after start are checked on their first request.
/// </summary>
internal sealed class DistributedLockEndpointValidator(IServiceProvider services, EndpointLockPlanner planner, DistributedLockMiddlewareMarker marker) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<EndpointDataSource>() is not { } dataSource)
        {
            return Task.CompletedTask;
        }

        var errors = new List<string>();
        var locked = new List<string>();
        foreach (var endpoint in dataSource.Endpoints)
        {
            if (planner.Build(endpoint, errors) is not null)
            {
                locked.Add(endpoint.DisplayName ?? endpoint.ToString() ?? "(unnamed endpoint)");
            }
        }

        if (locked.Count > 0 && !marker.IsUsed)
        {
            errors.Add($"Endpoint '{locked[0]}' ({locked.Count} in all) declares a distributed lock, but app.UseDistributedLocks() was not called, so nothing would take the lock. Call it after UseRouting (and after UseAuthentication when keys use claims).");
        }

        if (locked.Count > 0 && services.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(IDistributedLockProvider)))
        {
            errors.Add($"Endpoint '{locked[0]}' declares a distributed lock, but no {nameof(IDistributedLockProvider)} is registered; call services.AddHybridCoordination(...).");
        }

        return errors.Count == 0
            ? Task.CompletedTask
            : throw new InvalidOperationException("Invalid distributed lock declarations:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
