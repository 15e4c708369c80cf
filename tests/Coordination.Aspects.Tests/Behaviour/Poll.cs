namespace Coordination.Aspects.Tests.Behaviour;

/// <summary>Waits for a condition with a generous deadline instead of sleeping a guessed time.</summary>
internal static class Poll
{
    /// <summary>Generous, because build machines can be heavily loaded; passing tests never wait this long.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static Task UntilAsync(Func<bool> condition, string what) => Coordination.Testing.Poll.UntilAsync(condition, Deadline, what);
}
