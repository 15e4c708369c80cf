using System.Globalization;
using Coordination.Locks;
using Hangfire;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Hangfire;

/// <summary>
/// Runs jobs inside their distributed lock. Per perform: OnPerforming binds the key, acquires the lock (or applies the
/// contention behaviour: throw for Fail so retry applies; for Skip/Reschedule cancel the perform and leave a
/// marker that OnStateElection turns into Deleted or Scheduled with the reason), links the handle's lost signal to
/// the job's cancellation, and OnPerformed releases it whether the job succeeded, threw or was cancelled.
/// Hangfire's filter API is synchronous, so acquisition and release block the worker thread (workers are dedicated
/// threads, so this cannot starve the thread pool).
/// </summary>
internal sealed class JobLockEngine
{
    private const string HandledKey = "Coordination.Lock.Handled";
    private const string SkipKey = "Coordination.Lock.Skip";
    private const string RescheduleKey = "Coordination.Lock.Reschedule";
    private const string RecurringHashPrefix = "coordination:recurring-run:";

    private static volatile JobLockEngine? s_current;

    private readonly IDistributedLockProvider _provider;
    private readonly HangfireCoordinationOptions _options;
    private readonly ILogger _logger;

    public JobLockEngine(IDistributedLockProvider provider, HangfireCoordinationOptions options)
    {
        _provider = provider;
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger("Coordination.Hangfire") ?? NullLogger.Instance;
    }

    public static JobLockEngine? Current
    {
        get => s_current;
        set => s_current = value;
    }

    public IDistributedLockProvider Provider => _provider;

    /// <summary>
    /// Fails a locked job when the global filter is registered but no engine is configured (it was reset), so the job
    /// never runs unguarded.
    /// </summary>
    public static void RequireCurrentFor(PerformContext context)
    {
        if (context.BackgroundJob.Job is { } job && JobLockPolicy.Get(job.Type, job.Method) is not null)
        {
            throw new InvalidOperationException(
                $"Job {Describe(job)} has a distributed lock attribute, but no lock provider is configured on this server: call " +
                "GlobalConfiguration.Configuration.UseHybridCoordination(...). The job did not run.");
        }
    }

    /// <summary>Client filter: a job whose key template does not fit its method or arguments is never created.</summary>
    public static void ValidateOnCreating(CreatingContext context, object caller)
    {
        _ = caller;
        var job = context.Job;
        if (job is null)
        {
            return;
        }

        var policy = JobLockPolicy.Get(job.Type, job.Method);
        policy?.Binder.Bind(job.Args);
    }

    public void OnPerforming(PerformingContext context, object caller)
    {
        var job = context.BackgroundJob.Job;
        if (job is null || context.Items.ContainsKey(HandledKey))
        {
            return;
        }

        var policy = JobLockPolicy.Get(job.Type, job.Method)
            ?? (_options.LockEveryJob ? JobLockPolicy.ForEveryJob(job.Type, job.Method, _options.EveryJobContention) : null);
        if (policy is null)
        {
            return;
        }

        context.Items[HandledKey] = true;
        var jobId = context.BackgroundJob.Id;
        var key = policy.Binder.Bind(job.Args);
        var timeout = policy.Timeout ?? (policy.Contention == LockContention.Fail ? _options.DefaultWaitTimeout : TimeSpan.Zero);
        var jobToken = context.CancellationToken.ShutdownToken;

        IDistributedLockHandle? handle;
        try
        {
            handle = _provider.TryAcquireAsync(key, policy.MaxConcurrency, policy.Access, timeout, jobToken).AsTask().GetAwaiter().GetResult();
        }
        catch (LockUnavailableException ex)
        {
            Log.Unavailable(_logger, ex, jobId, key);
            throw;
        }

        if (handle is null)
        {
            Log.Contended(_logger, jobId, key, policy.Contention);
            OnContended(context, policy, key, timeout);
            return;
        }

        try
        {
            GuardRun(context, policy, handle, caller, jobId, key, jobToken);
        }
        catch
        {
            DisposeQuietly(handle, jobId); // never leak a held lock when the guarded run cannot start
            throw;
        }
    }

    private void GuardRun(PerformingContext context, JobLockPolicy policy, IDistributedLockHandle handle, object caller, string jobId, string key, CancellationToken jobToken)
    {
        if (handle.LostToken.IsCancellationRequested)
        {
            throw new JobLockLostException($"The lock '{key}' was lost as soon as it was acquired; the job did not run.");
        }

        if (policy.CoalesceRecurring && AlreadyRanForThisTrigger(context, out var reason))
        {
            DisposeQuietly(handle, jobId);
            context.Items[SkipKey] = reason;
            context.Canceled = true;
            return;
        }

        var lockContext = new JobLockContext(handle, jobId, jobToken) { Owner = caller };
        lockContext.LostRegistration = handle.LostToken.Register(static state => ((LostCallbackState)state!).Run(), new LostCallbackState(this, context, lockContext));
        context.Items[PerformContextJobLockExtensions.ItemKey] = lockContext;
        JobLockContext.Current = lockContext;
        Log.Acquired(_logger, jobId, key, handle.FencingToken);
    }

    /// <summary>Server filter: releases the lock acquired by <paramref name="caller"/> for this perform.</summary>
    public static void Release(PerformedContext context, object caller)
    {
        if (!context.Items.TryGetValue(PerformContextJobLockExtensions.ItemKey, out var value) || value is not JobLockContext lockContext || !ReferenceEquals(lockContext.Owner, caller))
        {
            return;
        }

        context.Items.Remove(PerformContextJobLockExtensions.ItemKey);
        if (ReferenceEquals(JobLockContext.Current, lockContext))
        {
            JobLockContext.Current = null;
        }

        // Waits for a running lost-lock callback, so it never races the worker disposing the job's token.
        lockContext.LostRegistration.Dispose();
        var engine = s_current;
        var logger = engine?._logger ?? NullLogger.Instance;
        try
        {
            lockContext.Handle.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Log.Released(logger, lockContext.JobId, lockContext.Key);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ReleaseFailed(logger, ex, lockContext.JobId, lockContext.Key);
        }
        finally
        {
            lockContext.Linked.Dispose();
        }
    }

    /// <summary>Elect-state filter: turns the "canceled by filter" Deleted state of a contended job into the stated outcome.</summary>
    public static void OnStateElection(ElectStateContext context, object caller)
    {
        _ = caller;
        if (context.CandidateState is not DeletedState || context.CustomData is not { } data)
        {
            return;
        }

        if (data.Remove(SkipKey, out var skip))
        {
            context.CandidateState = new DeletedState { Reason = (string)skip! };
        }
        else if (data.Remove(RescheduleKey, out var reschedule))
        {
            var r = (Reschedule)reschedule!;
            context.CandidateState = new ScheduledState(r.Delay) { Reason = r.Reason };
        }
    }

    private void OnContended(PerformingContext context, JobLockPolicy policy, string key, TimeSpan timeout)
    {
        var job = Describe(context.BackgroundJob.Job);
        switch (policy.Contention)
        {
            case LockContention.Skip:
                context.Items[SkipKey] = $"skipped: lock '{key}' held";
                context.Canceled = true;
                break;
            case LockContention.Reschedule:
                var delay = policy.RescheduleDelay ?? _options.DefaultRescheduleDelay;
                context.Items[RescheduleKey] = new Reschedule(delay, $"rescheduled in {delay.ToString("c", CultureInfo.InvariantCulture)}: lock '{key}' held");
                context.Canceled = true;
                break;
            case LockContention.Fail when timeout != TimeSpan.Zero:
                throw new JobLockNotAcquiredException($"Job {job} waited {timeout.ToString("c", CultureInfo.InvariantCulture)} for lock '{key}', which is still held by another job; the attempt fails so that retry applies.");
            default:
                throw new JobLockNotAcquiredException($"Job {job} did not run: lock '{key}' is held by another job; the attempt fails so that retry applies.");
        }
    }

    // A recurring occurrence is already served when another run of the same recurring job started after this job was
    // created (triggered). Checked and recorded under the lock, in the Hangfire storage that all servers share.
    private bool AlreadyRanForThisTrigger(PerformingContext context, out string reason)
    {
        reason = string.Empty;
        string? recurringJobId;
        try
        {
            recurringJobId = context.GetJobParameter<string>("RecurringJobId");
        }
        catch (InvalidOperationException)
        {
            return false;
        }

        if (string.IsNullOrEmpty(recurringJobId))
        {
            return false;
        }

        var hash = RecurringHashPrefix + recurringJobId;
        var entries = context.Connection.GetAllEntriesFromHash(hash);
        if (entries is not null && entries.TryGetValue("StartedAt", out var text)
            && DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var startedAt)
            && startedAt >= context.BackgroundJob.CreatedAt)
        {
            entries.TryGetValue("JobId", out var otherJob);
            reason = $"skipped: recurring job '{recurringJobId}' already ran (job {otherJob}) at {startedAt:O}, after this run was triggered at {context.BackgroundJob.CreatedAt:O}";
            Log.Coalesced(_logger, context.BackgroundJob.Id, recurringJobId, startedAt);
            return true;
        }

        var now = context.Storage is { } storage && storage.HasFeature(JobStorageFeatures.Connection.GetUtcDateTime) && context.Connection is JobStorageConnection c
            ? c.GetUtcDateTime()
            : DateTime.UtcNow;
        using var transaction = context.Connection.CreateWriteTransaction();
        transaction.SetRangeInHash(hash, [
            new KeyValuePair<string, string>("StartedAt", now.ToString("O", CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("JobId", context.BackgroundJob.Id),
        ]);
        transaction.Commit();
        return false;
    }

    private void DisposeQuietly(IDistributedLockHandle handle, string jobId)
    {
        try
        {
            handle.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ReleaseFailed(_logger, ex, jobId, handle.Key);
        }
    }

    private static string Describe(Job? job) => job is null ? "(unknown)" : JobKeyBinder.DisplayName(job.Type, job.Method);

    private sealed record Reschedule(TimeSpan Delay, string Reason);

    /// <summary>
    /// Lost lock: fire the lock context's token, move the job from Processing to Failed (so retry applies and the
    /// dashboard says why), then make Hangfire notice the state change now, which aborts the job's own
    /// CancellationToken / IJobCancellationToken instead of waiting for the server's cancellation check interval.
    /// </summary>
    private sealed class LostCallbackState(JobLockEngine engine, PerformContext context, JobLockContext lockContext)
    {
        public void Run()
        {
            var jobId = context.BackgroundJob.Id;
            Log.Lost(engine._logger, jobId, lockContext.Key);

            // First the lock context's own token: callbacks run last-registered-first, so the linked source created
            // before this registration would otherwise fire only after the job was already aborted below.
            try
            {
                lockContext.Linked.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
            catch (AggregateException ex)
            {
                Log.LostStateChangeFailed(engine._logger, ex, jobId, lockContext.Key);
            }

            try
            {
                var message = $"lock '{lockContext.Key}' lost while the job ran (fencing token {lockContext.FencingToken})";
                var client = new BackgroundJobClient(context.Storage ?? JobStorage.Current);
                client.ChangeState(jobId, new FailedState(new JobLockLostException($"The distributed {message}.")) { Reason = message }, ProcessingState.StateName);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.LostStateChangeFailed(engine._logger, ex, jobId, lockContext.Key);
            }

            try
            {
                // Checks the job's state and, as it is no longer Processing here, aborts the job's token.
                context.CancellationToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException)
            {
                // Expected: JobAbortedException (or shutdown) means the token fired.
            }
            catch (ObjectDisposedException)
            {
                // The job already finished.
            }
        }
    }
}
