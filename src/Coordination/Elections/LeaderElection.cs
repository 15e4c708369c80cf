using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Coordination.Diagnostics;
using Coordination.Locks;
using Coordination.ZooKeeper;
using Microsoft.Extensions.Logging;

namespace Coordination.Elections;

/// <summary>
/// One candidate (or observer) of a named election, built on the lock engine: a term is a lock on the election's
/// queue held for as long as this instance leads.
/// </summary>
/// <remarks>
/// Node layout for election E: directory <c>&lt;root&gt;/elections/&lt;encoded E&gt;</c> (a container node), children
/// <c>&lt;ownerId&gt;-NNNNNNNNNN</c> (ephemeral-sequential, the lock queue's names) whose data is the candidate's JSON
/// (<see cref="LeaderCandidateData"/>). The lowest node leads; its czxid is the term's fencing token.
/// <code>
/// stand:  [session] create own node with the candidate's JSON (ZooKeeperLockQueue.EnterAsync)   state Follower
/// wait:   lowest => lead; else watch the predecessor only (ZooKeeperLockQueue.WaitForTurnAsync, no deadline)
/// lead:   term = LockHandle(czxid) watched by LockLossMonitor; stamp leaderSince and the endpoints as bound now
///         (setData, best effort: a server may bind after the candidate joined)                        state Leader
/// end:    lost (node deleted, session expired, or silent for 3/4 of the session timeout) or given up (stop,
///         resign): IsLeader turns false and the leadership token fires BEFORE the node is deleted; a term given
///         up also waits (bounded) for the leader services to finish; then the node is deleted (at most ReleaseWait, else by the janitor) and the candidate stands again with a new
///         node (a new term gets a new, higher czxid).
/// fail:   ZooKeeper gone or the session ended => state Unknown (nobody leads on this instance's word); retry
///         every RetryDelay on the current session, or the replacement one after an expiry.
/// </code>
/// </remarks>
internal sealed class LeaderElection : ILeaderElection, IAsyncDisposable
{
    /// <summary>Pause between attempts to stand while ZooKeeper is unavailable.</summary>
    internal static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private static readonly ConcurrentDictionary<LeaderElection, byte> Live = new();

    // One gauge for every election of the process: 1 while this instance leads it.
    private static readonly ObservableGauge<int> LeaderGauge = CoordinationDiagnostics.Meter.CreateObservableGauge(
        "coordination.election.leader",
        () => Live.Keys.Select(e => new Measurement<int>(e.IsLeader ? 1 : 0, new KeyValuePair<string, object?>("election", e.Name))),
        "{leader}",
        "1 while this instance leads the election, else 0.");

    /// <summary>Longest a term given up waits for the work registered with <see cref="OnTermEnding"/> before its node goes.</summary>
    internal static readonly TimeSpan HandOverWait = TimeSpan.FromSeconds(5);

    private static readonly CancellationToken NotLeading = new(canceled: true);

    private readonly LeaderElectionOptions _options;
    private readonly CoordinationConnections _connections;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<IReadOnlyList<string>?> _serverAddresses;
    private readonly ZooKeeperLockQueue _queue;
    private readonly LockLossMonitor _loss;
    private readonly CancellationTokenSource _disposed = new();
    private readonly string _key;
    private readonly string _dir;
    private readonly object _gate = new();
    private readonly List<Func<Task>> _termWork = [];
    private Term? _term;
    private TaskCompletionSource<CancellationToken> _elected = NewElected();
    private LeaderElectionState _state = LeaderElectionState.Stopped;
    private CancellationTokenSource? _run;
    private Task? _loop;

    public LeaderElection(string name, LeaderElectionOptions options, HybridCoordinationOptions coordination, CoordinationConnections connections, ILogger logger, TimeProvider time, Func<IReadOnlyList<string>?> serverAddresses)
    {
        Name = name;
        _options = options;
        _connections = connections;
        _logger = logger;
        _time = time;
        _serverAddresses = serverAddresses;
        _key = "election:" + name;
        _dir = coordination.UnderRoot("elections") + "/" + Keys.LockKey.ToNodeName(name);
        InstanceId = options.InstanceId ?? Environment.MachineName + "-" + Environment.ProcessId;
        _queue = new ZooKeeperLockQueue(coordination, logger);
        _loss = new LockLossMonitor(logger, time, zk => _term is { } t && ReferenceEquals(t.Handle.Session, zk) ? [t.Handle] : [], _disposed.Token);
        _state = options.Candidate ? LeaderElectionState.Stopped : LeaderElectionState.NotParticipating;
        connections.ZooKeeperStateChanged += OnZooKeeperStateChanged;
        Live[this] = 0;
        _ = LeaderGauge;
    }

    public string Name { get; }

    public string InstanceId { get; }

    /// <summary>The election's ZooKeeper directory.</summary>
    public string Directory => _dir;

    public bool IsCandidate => _options.Candidate;

    public LeaderElectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state == LeaderElectionState.Leader && !IsLeader ? LeaderElectionState.Follower : _state;
            }
        }
    }

    public bool IsLeader => _term is { } t && !t.Leadership.IsCancellationRequested;

    public CancellationToken LeadershipToken => _term is { } t ? t.Leadership.Token : NotLeading;

    public long FencingToken => IsLeader ? _term!.Handle.FencingToken : 0;

    public event EventHandler<LeadershipChangedEventArgs>? LeadershipChanged;

    public async Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken = default)
    {
        if (!_options.Candidate)
        {
            throw new InvalidOperationException($"This instance does not stand in election '{Name}' (LeaderElectionOptions.Candidate is false).");
        }

        while (true)
        {
            Task<CancellationToken> elected;
            lock (_gate)
            {
                if (IsLeader)
                {
                    return _term!.Leadership.Token;
                }

                elected = PendingElected().Task;
            }

            var token = await elected.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!token.IsCancellationRequested)
            {
                return token;
            }
        }
    }

    public async Task<LeaderInfo?> GetLeaderAsync(CancellationToken cancellationToken = default)
    {
        var zk = _connections.GetZooKeeper();
        await _queue.AwaitSessionAsync(zk, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<string> children;
        try
        {
            children = (await zk.GetChildrenAsync(_dir, null, cancellationToken).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return null;
        }

        return await ReadLeaderAsync(zk, _dir, children, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The leader among <paramref name="children"/> of the election directory <paramref name="dir"/> (the lowest node still there); null when none is.</summary>
    internal static async Task<LeaderInfo?> ReadLeaderAsync(ZooKeeperClient zk, string dir, IReadOnlyList<string> children, CancellationToken cancellationToken)
    {
        foreach (var child in children.Where(c => c.Length > 11).OrderBy(ZooKeeperLockQueue.Sequence))
        {
            ZooKeeperDataResult result;
            try
            {
                result = await zk.GetDataAsync(dir + "/" + child, null, cancellationToken).ConfigureAwait(false);
            }
            catch (NoNodeException)
            {
                continue; // the leader left between the two reads: its successor leads
            }

            var data = LeaderCandidateData.Parse(result.Data);
            return new LeaderInfo(
                data?.InstanceId ?? child[..^11],
                data?.Host ?? string.Empty,
                data?.Pid ?? 0,
                data?.Endpoints ?? [],
                data?.LeaderSince ?? DateTimeOffset.FromUnixTimeMilliseconds(result.Stat.Mtime),
                result.Stat.Czxid);
        }

        return null;
    }

    public Task ResignAsync(CancellationToken cancellationToken = default)
    {
        if (_term is { } term)
        {
            // Fired here, not later by the candidacy loop: when this returns the term is over for the caller
            // (IsLeader false, token cancelled, WaitForLeadershipAsync waits for a new term), while the node still
            // exists until the loop deletes it, so no successor starts before the token fired.
            term.GiveUp("resigned");
            term.Fire();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Registers work that runs while leading (a leader service): when a term is given up, the node is deleted only
    /// once every such task has finished (at most <see cref="HandOverWait"/>), so the next leader's work never
    /// overlaps this one's. A lost term does not wait: its node is gone or its session is suspect already.
    /// </summary>
    internal void OnTermEnding(Func<Task> running)
    {
        lock (_termWork)
        {
            _termWork.Add(running);
        }
    }

    private async Task AwaitTermWorkAsync()
    {
        Task[] running;
        lock (_termWork)
        {
            running = [.. _termWork.Select(w => w())];
        }

        try
        {
            await Task.WhenAll(running).WaitAsync(HandOverWait).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Timed out or failed (failures are the leader service's to log): hand over anyway.
        }
    }

    /// <summary>Starts standing (candidates only; observers have nothing to run).</summary>
    public Task StartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (!_options.Candidate)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_loop is null)
            {
                _run = new CancellationTokenSource();
                _loop = Task.Run(() => RunAsync(_run.Token));
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops standing: a leader gives up its term (the token fires, then its node is deleted).</summary>
    public async Task StopAsync()
    {
        Task? loop;
        lock (_gate)
        {
            loop = _loop;
            _loop = null;
        }

        if (loop is null)
        {
            return;
        }

        await _run!.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false);
        _run.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await StandAsync(ct).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is ZooKeeperException or TimeoutException or ObjectDisposedException)
            {
                SetState(LeaderElectionState.Unknown);
                if (failures++ == 0)
                {
                    ElectionLog.CampaignFailed(_logger, Name, ex);
                }

                try
                {
                    await Task.Delay(RetryDelay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        SetState(LeaderElectionState.Stopped);
    }

    /// <summary>One candidacy: join the queue, wait for the turn, lead until the term ends.</summary>
    private async Task StandAsync(CancellationToken ct)
    {
        var zk = _connections.GetZooKeeper();
        await _queue.AwaitSessionAsync(zk, ct).ConfigureAwait(false);
        var ownerId = RedisLockRecord.NewOwnerId();
        var me = new LeaderCandidateData(InstanceId, Environment.MachineName, Environment.ProcessId, Endpoints(), _time.GetUtcNow());
        var entry = await _queue.EnterAsync(zk, _dir, ownerId, ct, data: me.ToBytes()).ConfigureAwait(false);
        var node = entry.Node;
        ElectionLog.Joined(_logger, Name, node.Path);
        SetState(LeaderElectionState.Follower);
        (bool Granted, long WaitedFrom) turn;
        try
        {
            turn = await _queue.WaitForTurnAsync(zk, _key, entry, ownerId, null, static (_, _) => null, ct).ConfigureAwait(false);
        }
        catch
        {
            _queue.Janitor.Delete(zk, node.Path);
            throw;
        }

        var handle = new LockHandle(_key, node.Stat.Czxid, LockMode.ZooKeeperOnly, _time.GetUtcNow(), ownerId, ReleaseAsync)
        {
            NodePath = node.Path,
            Session = zk,
        };
        using var term = new Term(handle, OnTermFired);
        TaskCompletionSource<CancellationToken> elected;
        lock (_gate)
        {
            _term = term;
            _state = LeaderElectionState.Leader;
            elected = PendingElected();
        }

        _loss.WatchOwnNode(zk, handle);
        var tag = new KeyValuePair<string, object?>("election", Name);
        CoordinationDiagnostics.ElectionTerms.Add(1, tag);
        if (turn.WaitedFrom != 0)
        {
            CoordinationDiagnostics.ElectionFailovers.Add(1, tag); // took over from another leader
        }

        ElectionLog.Elected(_logger, Name, InstanceId, handle.FencingToken);
        _ = StampLeaderSinceAsync(zk, node.Path, me with { LeaderSince = handle.AcquiredAt, Endpoints = Endpoints() });
        elected.TrySetResult(term.Leadership.Token);
        Raise(new LeadershipChangedEventArgs(Name, true, handle.FencingToken, null));

        string reason;
        using (ct.Register(static t => ((Term)t!).GiveUp("the election stopped"), term))
        {
            reason = await term.Ended.ConfigureAwait(false);
        }

        // The token fires before the node goes, so no successor can start while this term's work still sees it unfired.
        term.Fire();
        CoordinationDiagnostics.ElectionTermDuration.Record(Stopwatch.GetElapsedTime(term.Started).TotalMilliseconds, tag);
        if (handle.IsLost)
        {
            CoordinationDiagnostics.ElectionTermsLost.Add(1, tag);
            ElectionLog.TermLost(_logger, Name, handle.FencingToken, reason);
        }
        else
        {
            ElectionLog.TermGivenUp(_logger, Name, handle.FencingToken, reason);
        }

        Raise(new LeadershipChangedEventArgs(Name, false, handle.FencingToken, reason));
        if (!handle.IsLost)
        {
            await AwaitTermWorkAsync().ConfigureAwait(false);
        }

        await handle.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs as a term's token fires (lost, resigned, stopped): from then on this instance is a follower and
    /// <see cref="WaitForLeadershipAsync"/> waits for the next term instead of returning the one that ended.
    /// </summary>
    private void OnTermFired(Term term)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_term, term))
            {
                _term = null;
                _state = LeaderElectionState.Follower;
                _ = PendingElected();
            }
        }
    }

    /// <summary>
    /// The completion the next term will set, under <see cref="_gate"/>. A completion that carries an ended term's
    /// token is replaced here, by whoever sees it first: a user's callback on the leadership token runs before
    /// <see cref="OnTermFired"/> (callbacks run newest first) and may already wait for the next term.
    /// </summary>
    private TaskCompletionSource<CancellationToken> PendingElected()
    {
        if (_elected.Task.IsCompleted && _elected.Task.Result.IsCancellationRequested)
        {
            _elected = NewElected();
        }

        return _elected;
    }

    private IReadOnlyList<string> Endpoints() => _options.Endpoints.Count > 0 ? [.. _options.Endpoints] : _serverAddresses() ?? [];

    private static async Task StampLeaderSinceAsync(ZooKeeperClient zk, string path, LeaderCandidateData data)
    {
        try
        {
            await zk.SetDataAsync(path, data.ToBytes()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ZooKeeperException or ObjectDisposedException)
        {
            // Readers fall back to the node's write time; the term itself does not depend on the stamp.
        }
    }

    private ValueTask ReleaseAsync(LockHandle handle) => _queue.LeaveAsync(handle, null);

    private void SetState(LeaderElectionState state)
    {
        lock (_gate)
        {
            _state = state;
        }
    }

    private void Raise(LeadershipChangedEventArgs e)
    {
        try
        {
            LeadershipChanged?.Invoke(this, e);
        }
        catch (Exception ex)
        {
            ElectionLog.HandlerFailed(_logger, Name, ex);
        }
    }

    private void OnZooKeeperStateChanged(object? sender, ZooKeeperStateChangedEventArgs e)
    {
        if (sender is ZooKeeperClient zk)
        {
            _queue.Janitor.OnSessionStateChanged(e.Current);
            _loss.OnStateChanged(zk, e.Current);
        }
    }

    private static TaskCompletionSource<CancellationToken> NewElected() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        _connections.ZooKeeperStateChanged -= OnZooKeeperStateChanged;
        Live.TryRemove(this, out _);
        await _disposed.CancelAsync().ConfigureAwait(false);
        await _queue.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// One term: the lock handle (its lost token ends the term) and the leadership token users see, which also
    /// fires when the term is given up.
    /// </summary>
    private sealed class Term : IDisposable
    {
        private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenRegistration _lost;
        private readonly CancellationTokenRegistration _fired;

        public Term(LockHandle handle, Action<Term> onFired)
        {
            Handle = handle;
            Leadership = CancellationTokenSource.CreateLinkedTokenSource(handle.LostToken);
            _lost = handle.LostToken.Register(static t => ((Term)t!)._ended.TrySetResult("leadership lost (ZooKeeper node deleted, session expired or silent past the lost-lock bound)"), this);
            // Whatever ends the term (lost, resigned, stopped), the election turns follower as the token fires.
            _fired = Leadership.Token.UnsafeRegister(t => onFired((Term)t!), this);
        }

        public LockHandle Handle { get; }

        public CancellationTokenSource Leadership { get; }

        public long Started { get; } = Stopwatch.GetTimestamp();

        public Task<string> Ended => _ended.Task;

        public void GiveUp(string reason) => _ended.TrySetResult(reason);

        public void Fire()
        {
            try
            {
                Leadership.Cancel();
            }
            catch (AggregateException)
            {
                // a user's callback threw; the term has ended either way
            }
        }

        // Leadership is not disposed: a caller may still read its (cancelled) token after the term.
        public void Dispose()
        {
            _lost.Dispose();
            _fired.Dispose();
        }
    }
}
