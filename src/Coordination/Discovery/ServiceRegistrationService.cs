using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Threading.Channels;
using Coordination.ZooKeeper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Discovery;

/// <summary>
/// Announces this instance as the ephemeral node <c>&lt;root&gt;/services/&lt;name&gt;/&lt;instanceId&gt;</c>.
/// </summary>
/// <remarks>
/// Lifecycle: options are checked while the host starts; the node is created once every hosted service (the web
/// server included) has started, so the server's bound addresses are known. A failure other than a bad
/// configuration or a duplicate instance id does not stop the app: a worker retries. The worker also re-creates the
/// node on the new session after an expiry (ephemeral nodes die with their session) and, with
/// <see cref="ServiceRegistrationOptions.WaitForHealthy"/>, withholds the node until the app is healthy and keeps its
/// status in step. A node deleted by someone else is re-created. The node is deleted when the host begins to stop,
/// before the server stops taking requests.
/// </remarks>
internal sealed class ServiceRegistrationService : IHostedLifecycleService, IAsyncDisposable
{
    private readonly string _serviceName;
    private readonly ServiceRegistrationOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<byte> _signals = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string _instanceId = "";
    private string _path = "";
    private List<Uri> _endpoints = [];
    private string _status = ServiceInstanceStatus.Up;
    private DateTimeOffset _registeredAt;
    private HealthCheckService? _health;
    private ZooKeeperClient? _registeredOn;
    private Task? _worker;

    public ServiceRegistrationService(string serviceName, ServiceRegistrationOptions options, CoordinationConnections connections, IServiceProvider services, TimeProvider time, ILogger<ServiceRegistrationService> logger)
    {
        _serviceName = serviceName;
        _options = options;
        _connections = connections;
        _services = services;
        _time = time;
        _logger = logger;
    }

    /// <summary>The instance id in use (after the host started).</summary>
    public string InstanceId => _instanceId;

    /// <summary>True while the node exists on the current session, as far as this instance knows.</summary>
    public bool IsRegistered => _registeredOn is { } zk && ReferenceEquals(zk, _connections.ZooKeeperIfCreated) && zk.State != ZooKeeperState.Expired;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _instanceId = _options.InstanceId is { } id
            ? ServiceNames.Validate(id, $"instance id of service '{_serviceName}'", nameof(ServiceRegistrationOptions.InstanceId))
            : DefaultInstanceId();
        if (!_connections.HasZooKeeper)
        {
            throw new InvalidOperationException($"Service registration '{_serviceName}' needs Coordination:ZooKeeper to be configured.");
        }

        _path = DiscoveryPaths.Service(_connections.Options, _serviceName) + "/" + _instanceId;
        if (_options.Endpoints.Count > 0)
        {
            _endpoints = EndpointList.Normalize(_options.Endpoints, AdvertisedHost(), _serviceName, "ServiceRegistrationOptions.Endpoints");
        }

        if (_options.HealthCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ServiceRegistrationOptions.HealthCheckInterval '{_options.HealthCheckInterval}' of service '{_serviceName}' must be positive.", nameof(ServiceRegistrationOptions.HealthCheckInterval));
        }

        foreach (var key in _options.Metadata.Keys)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                throw new ArgumentException($"ServiceRegistrationOptions.Metadata of service '{_serviceName}' has an empty key.", nameof(ServiceRegistrationOptions.Metadata));
            }
        }

        if (_options.WaitForHealthy)
        {
            _health = _services.GetService<HealthCheckService>()
                ?? throw new InvalidOperationException($"Service registration '{_serviceName}' has WaitForHealthy on but no HealthCheckService is registered; call services.AddHealthChecks().");
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_endpoints.Count == 0)
        {
            var bound = ServerAddresses.Get(_services)
                ?? throw new ServiceDiscoveryException($"Service '{_serviceName}' has no endpoints to announce: ServiceRegistrationOptions.Endpoints is empty and the host has no ASP.NET Core server whose bound addresses could be used.");
            _endpoints = EndpointList.Normalize(bound, AdvertisedHost(), _serviceName, "the server's bound addresses");
        }

        _connections.ZooKeeperSessionReplaced += OnSessionReplaced;
        if (!_options.WaitForHealthy)
        {
            try
            {
                await RegisterAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ZooKeeperException or TimeoutException && ex is not NoAuthException)
            {
                // ZooKeeper is unreachable right now: do not keep the app from starting, the worker retries.
                DiscoveryLog.RegistrationFailed(_logger, _serviceName, _instanceId, ex);
                _signals.Writer.TryWrite(0);
            }
        }
        else
        {
            _signals.Writer.TryWrite(0);
        }

        _worker = Task.Run(WorkAsync, CancellationToken.None);
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await StopWorkerAsync().ConfigureAwait(false);
        await DeregisterAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _gate.Dispose();
    }

    private async Task StopWorkerAsync()
    {
        _connections.ZooKeeperSessionReplaced -= OnSessionReplaced;
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        if (_worker is { } worker)
        {
            await worker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void OnOwnNodeEvent(WatchedEvent e)
    {
        if (e.Type == WatchEventType.NodeDeleted && !_stopping.IsCancellationRequested)
        {
            Interlocked.Exchange(ref _registeredOn, null);
            _signals.Writer.TryWrite(0);
        }
        else if (e.Type == WatchEventType.NodeDataChanged && _registeredOn is { } zk && !_stopping.IsCancellationRequested)
        {
            // One-shot watch: set it again (the status update of this instance fires it too).
            _ = zk.ExistsAsync(_path, OnOwnNodeEvent).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    private void OnSessionReplaced(object? sender, ZooKeeperClient e)
    {
        DiscoveryLog.Reregistering(_logger, _serviceName, _instanceId);
        _signals.Writer.TryWrite(0);
    }

    private async Task WorkAsync()
    {
        var ct = _stopping.Token;
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_health is not null)
                {
                    await CheckHealthAsync(ct).ConfigureAwait(false);
                }

                if (!IsRegistered && (_health is null || _status != ServiceInstanceStatus.Unhealthy))
                {
                    await RegisterAsync(ct).ConfigureAwait(false);
                }

                backoff = TimeSpan.FromMilliseconds(200);
                var wait = _health is null ? Timeout.InfiniteTimeSpan : _options.HealthCheckInterval;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(wait);
                try
                {
                    await _signals.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the worker must survive any failure and retry
            catch (Exception ex)
#pragma warning restore CA1031
            {
                DiscoveryLog.RegistrationFailed(_logger, _serviceName, _instanceId, ex);
                try
                {
                    await Task.Delay(backoff, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task CheckHealthAsync(CancellationToken ct)
    {
        var report = await _health!.CheckHealthAsync(ct).ConfigureAwait(false);
        var status = report.Status switch
        {
            HealthStatus.Healthy => ServiceInstanceStatus.Up,
            HealthStatus.Degraded => ServiceInstanceStatus.Degraded,
            _ => ServiceInstanceStatus.Unhealthy,
        };
        if (status == _status)
        {
            return;
        }

        _status = status;
        DiscoveryLog.StatusChanged(_logger, _serviceName, _instanceId, status);
        if (IsRegistered)
        {
            await _registeredOn!.SetDataAsync(_path, Document(), cancellationToken: ct).ConfigureAwait(false);
        }
        else if (status == ServiceInstanceStatus.Unhealthy)
        {
            DiscoveryLog.WithheldUntilHealthy(_logger, _serviceName, _instanceId, report.Status.ToString());
        }
    }

    private byte[] Document() => new ServiceInstanceDocument
    {
        InstanceId = _instanceId,
        Endpoints = [.. _endpoints.Select(e => e.OriginalString)],
        Version = _options.Version ?? DefaultVersion(),
        Metadata = WithProcess(_options.Metadata),
        Status = _status,
        RegisteredAt = _registeredAt,
    }.ToUtf8();

    /// <summary>
    /// The configured metadata plus <see cref="ProcessMetadataKey"/> (unless set): the <c>pid@machine</c> that lock
    /// records name as their holder, so a dashboard can tell which instance holds a lock.
    /// </summary>
    private static Dictionary<string, string> WithProcess(IDictionary<string, string> metadata)
    {
        var result = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        result.TryAdd(ProcessMetadataKey, Locks.RedisLockRecord.HolderName);
        return result;
    }

    /// <summary>The metadata key announcing the instance's process as lock records name it.</summary>
    internal const string ProcessMetadataKey = "coordination.process";

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var zk = await _connections.GetConnectedZooKeeperAsync(_connections.Options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            if (IsRegistered)
            {
                return;
            }

            _registeredAt = _time.GetUtcNow();
            var data = Document();
            var parent = DiscoveryPaths.Service(_connections.Options, _serviceName);
            Deadline? deadline = null;
            while (true)
            {
                try
                {
                    await zk.EnsurePathAsync(parent, cancellationToken: cancellationToken).ConfigureAwait(false);
                    await zk.CreateAsync(_path, data, CreateMode.Ephemeral, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (NoNodeException)
                {
                    // The service node was removed between the two calls; create it again.
                    continue;
                }
                catch (NodeExistsException)
                {
                }

                var stat = await zk.ExistsAsync(_path, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (stat is null)
                {
                    continue;
                }

                if (stat.EphemeralOwner == zk.SessionId)
                {
                    // Ours: an earlier create went through before its reply was lost.
                    await zk.SetDataAsync(_path, data, cancellationToken: cancellationToken).ConfigureAwait(false);
                    break;
                }

                // Another session holds the id. It may be this instance's previous process, killed and not yet expired:
                // give it one session timeout to go before calling the id a duplicate.
                deadline ??= Deadline.After(_connections.Options.SessionTimeout);
                if (stat.EphemeralOwner == 0 || deadline.Value.HasPassed)
                {
                    throw new ServiceDiscoveryException(stat.EphemeralOwner == 0
                        ? $"Instance id '{_instanceId}' of service '{_serviceName}' is taken by a persistent node at '{_path}'; delete it or choose another InstanceId."
                        : $"Instance id '{_instanceId}' of service '{_serviceName}' is already registered by another live ZooKeeper session (0x{stat.EphemeralOwner:x}); give each instance a unique InstanceId.");
                }

                var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (await zk.ExistsAsync(_path, _ => gone.TrySetResult(), cancellationToken).ConfigureAwait(false) is not null)
                {
                    try
                    {
                        await gone.Task.WaitAsync(deadline.Value.Remaining, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                    }
                }
            }

            _registeredOn = zk;

            // Someone deleting the node by hand (or a tool cleaning up) must not leave the instance unannounced.
            await zk.ExistsAsync(_path, OnOwnNodeEvent, cancellationToken).ConfigureAwait(false);
            DiscoveryLog.Registered(_logger, _serviceName, _instanceId, _path, string.Join(", ", _endpoints));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        var zk = Interlocked.Exchange(ref _registeredOn, null);
        if (zk is null || zk.State is ZooKeeperState.Expired or ZooKeeperState.Closed)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_connections.Options.OperationTimeout);
            var stat = await zk.ExistsAsync(_path, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (stat is not null && stat.EphemeralOwner == zk.SessionId)
            {
                await zk.DeleteAsync(_path, stat.Version, timeout.Token).ConfigureAwait(false);
            }

            DiscoveryLog.Deregistered(_logger, _serviceName, _instanceId);
        }
        catch (Exception ex) when (ex is ZooKeeperException or OperationCanceledException or TimeoutException)
        {
            DiscoveryLog.DeregistrationFailed(_logger, _serviceName, _instanceId, ex);
        }
    }

    private string AdvertisedHost() => string.IsNullOrWhiteSpace(_options.AdvertisedHost) ? Dns.GetHostName() : _options.AdvertisedHost;

    private static string DefaultInstanceId()
    {
        var machine = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '-')]);
        if (machine.Length > 80)
        {
            machine = machine[..80];
        }

        return $"{machine}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    private static string? DefaultVersion() =>
        Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
}
