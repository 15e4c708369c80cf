using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using Coordination;
using Coordination.AspNetCore.Dashboard;
using Coordination.Configuration;
using Coordination.Diagnostics;
using Coordination.Elections;
using Coordination.Locks;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the coordination dashboard: a live page of locks, semaphores, elections, instances and charts.</summary>
public static class CoordinationDashboardEndpointRouteBuilderExtensions
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Maps the dashboard page at <paramref name="pattern"/>, its JSON at <c>{pattern}/api/snapshot</c> and its
    /// embedded scripts and styles at <c>{pattern}/assets/...</c>. It shows, across every instance, the held locks,
    /// semaphores, reader-writer locks and elections, the registered service instances, this app's ZooKeeper session,
    /// Redis connection, mode and configuration changes, and charts of acquire latency, contentions and lost locks
    /// aggregated in-process from the <c>Coordination</c> meter (from the moment this is called).
    /// </summary>
    /// <remarks>
    /// Without authorization metadata on the returned builder the dashboard answers <b>local requests only</b>
    /// (client address loopback or the server's own address; others get 403), as Hangfire's dashboard does. Behind a
    /// reverse proxy on the same host every request looks local: then, or to open it to others, add a policy,
    /// e.g. <c>app.MapCoordinationDashboard().RequireAuthorization("ops")</c> (or <c>.AllowAnonymous()</c>).
    /// </remarks>
    /// <param name="endpoints">The app or a route group.</param>
    /// <param name="pattern">A literal path such as <c>/coordination</c> (no route parameters).</param>
    /// <param name="configure">Refresh interval, chart window, number of per-key series, rows per table.</param>
    /// <returns>A builder for every dashboard endpoint, so conventions such as <c>RequireAuthorization</c> apply to all.</returns>
    /// <exception cref="ArgumentException"><paramref name="pattern"/> is not a literal path, or an option is out of range (the message names it).</exception>
    /// <exception cref="InvalidOperationException"><c>AddHybridCoordination()</c> was not called.</exception>
    public static IEndpointConventionBuilder MapCoordinationDashboard(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/coordination", Action<CoordinationDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (!pattern.StartsWith('/') || pattern.IndexOfAny(['{', '}', '*', '?', '#', '\\']) >= 0 || pattern.Contains("//", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The dashboard pattern '{pattern}' must be a literal path starting with '/', such as '/coordination' (no route parameters).", nameof(pattern));
        }

        var options = new CoordinationDashboardOptions();
        configure?.Invoke(options);
        options.Validate();

        var services = endpoints.ServiceProvider;
        var connections = services.GetService<CoordinationConnections>()
            ?? throw new InvalidOperationException("MapCoordinationDashboard() needs the Coordination services: call builder.Services.AddHybridCoordination(...) first.");
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var metrics = new DashboardMetrics(options.ChartWindow, time);
        var configurationLog = new DashboardConfigurationLog(time);
        IReadOnlyList<ZooKeeperConfigurationProvider> Sources() =>
            [.. services.GetServices<ZooKeeperConfigurationRegistration>().Select(r => services.GetRequiredKeyedService<ZooKeeperConfigurationProvider>(r.Path))];
        if (services.GetService<IHostApplicationLifetime>() is { } lifetime)
        {
            // Configuration sources exist once the host has started; the listener stops with the app.
            lifetime.ApplicationStarted.Register(() => configurationLog.Subscribe(Sources()));
            lifetime.ApplicationStopped.Register(() =>
            {
                metrics.Dispose();
                configurationLog.Dispose();
            });
        }

        var snapshots = new DashboardSnapshotBuilder(
            connections,
            services.GetRequiredService<CoordinationStatus>(),
            services.GetRequiredService<ILockInspector>(),
            () => [.. services.GetServices<ILeaderElection>()],
            Sources,
            configurationLog,
            metrics,
            options,
            time);

        var group = endpoints.MapGroup(pattern);
        group.MapGet(string.Empty, (HttpContext http) => Page(http, options)).WithDisplayName("Coordination dashboard");
        group.MapGet("/api/snapshot", async (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            return Results.Json(await snapshots.GetAsync().ConfigureAwait(false), Json);
        }).WithDisplayName("Coordination dashboard snapshot");
        group.MapGet("/assets/{file}", (HttpContext http, string file) => DashboardAssets.Instance.Serve(http, file)).WithDisplayName("Coordination dashboard assets");
        group.AddEndpointFilter(LocalRequestsOnlyUnlessAuthorizedAsync);
        group.ExcludeFromDescription();
        return group;
    }

    private static IResult Page(HttpContext http, CoordinationDashboardOptions options)
    {
        var assets = DashboardAssets.Instance;
        var basePath = (http.Request.PathBase + http.Request.Path).Value!.TrimEnd('/');
        var html = assets.PageTemplate
            .Replace("{{base}}", HtmlEncoder.Default.Encode(basePath), StringComparison.Ordinal)
            .Replace("{{refreshMs}}", ((long)options.RefreshInterval.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{version}}", assets.Version, StringComparison.Ordinal);
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";
        return Results.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>Answers only local requests unless the endpoint carries authorization metadata (a policy, or AllowAnonymous).</summary>
    private static ValueTask<object?> LocalRequestsOnlyUnlessAuthorizedAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var metadata = http.GetEndpoint()?.Metadata;
        var explicitPolicy = metadata is not null
            && (metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null || metadata.GetMetadata<IAllowAnonymous>() is not null);
        if (explicitPolicy || IsLocal(http.Connection))
        {
            return next(context);
        }

        return ValueTask.FromResult<object?>(Results.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Local requests only",
            detail: "The coordination dashboard answers local requests only. Map it with .RequireAuthorization(\"<policy>\") to open it to others."));
    }

    private static bool IsLocal(ConnectionInfo connection)
    {
        if (connection.RemoteIpAddress is not { } remote)
        {
            return false;
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        var local = connection.LocalIpAddress is { IsIPv4MappedToIPv6: true } l ? l.MapToIPv4() : connection.LocalIpAddress;
        return IPAddress.IsLoopback(remote) || remote.Equals(local);
    }
}
