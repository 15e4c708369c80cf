using Coordination.Locks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Checks every endpoint's lock declaration when the host starts, so a template naming a value the endpoint cannot
/// supply fails the start with a message naming the endpoint and the placeholder instead of failing requests.
/// </summary>
/// <remarks>
/// Two passes, because the app-wide <see cref="EndpointDataSource"/> is only filled when the web server builds the
/// pipeline: before any hosted service starts, the endpoints of the <c>WebApplication</c> that
/// <c>UseDistributedLocks()</c> was called on (so the server never listens with a bad declaration); after start,
/// all endpoints, which also catches locked endpoints in an app that never called <c>UseDistributedLocks()</c>.
/// Endpoints added later still get the same check on their first request.
/// </remarks>
internal sealed class DistributedLockEndpointValidator(IServiceProvider services, EndpointLockPlanner planner, DistributedLockMiddlewareMarker marker) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (marker.Routes is { } routes)
        {
            Validate(routes.DataSources.SelectMany(d => d.Endpoints));
        }

        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<EndpointDataSource>() is { } dataSource)
        {
            Validate(dataSource.Endpoints);
        }

        return Task.CompletedTask;
    }

    private void Validate(IEnumerable<Endpoint> endpoints)
    {
        var errors = new List<string>();
        var locked = new List<string>();
        foreach (var endpoint in endpoints)
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

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid distributed lock declarations:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
