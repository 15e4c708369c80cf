using Hangfire.Client;
using Hangfire.Server;
using Hangfire.States;

namespace Coordination.Hangfire;

/// <summary>
/// The global filter added by <c>UseHybridCoordination()</c>: covers jobs marked with the compile-time aspect's
/// <c>[Coordination.Singleton]</c> and, with <see cref="HangfireCoordinationOptions.LockEveryJob"/>, every job.
/// Jobs with a <see cref="JobLockAttribute"/> are handled once per perform, whichever filter runs first.
/// </summary>
internal sealed class HybridCoordinationJobFilter : IClientFilter, IServerFilter, IElectStateFilter
{
    public void OnCreating(CreatingContext context) => JobLockEngine.ValidateOnCreating(context, this);

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context) => JobLockEngine.Current?.OnPerforming(context, this);

    public void OnPerformed(PerformedContext context) => JobLockEngine.Release(context, this);

    public void OnStateElection(ElectStateContext context) => JobLockEngine.OnStateElection(context, this);
}
