namespace Coordination.Aspects.Generator;

/// <summary>How a marked method returns its result.</summary>
internal enum ReturnKind
{
    Unsupported,
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}
