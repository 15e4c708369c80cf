using Hangfire.Client;
using Hangfire.Server;
using Hangfire.States;

namespace Coordination.Hangfire;

/// <summary>
/// The global filter added by <c>UseHybridCoordination()</c>, and the only one: the lock attributes are plain metadata
/// in the core (<see cref="IDistributedLockMetadata"/>), so this filter reads them from each job's method or class and
/// runs the job inside its lock; with <see cref="HangfireCoordinationOptions.LockEveryJob"/> it locks every job.
/// </summary>
internal sealed class HybridCoordinationJobFilter : IClientFilter, IServerFilter, IElectStateFilter
{
    public void OnCreating(CreatingContext context) => JobLockEngine.ValidateOnCreating(context, this);

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        if (JobLockEngine.Current is { } engine)
        {
            engine.OnPerforming(context, this);
        }
        else
        {
            JobLockEngine.RequireCurrentFor(context);
        }
    }

    public void OnPerformed(PerformedContext context) => JobLockEngine.Release(context, this);

    public void OnStateElection(ElectStateContext context) => JobLockEngine.OnStateElection(context, this);
}
