namespace Coordination.Hangfire.Tests.Infrastructure;

public static class Poll
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails with <paramref name="what"/>).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, Func<string>? detail = null)
    {
        try
        {
            await Coordination.Testing.Poll.UntilAsync(condition, Deadline, what);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}. {detail?.Invoke()}");
        }
    }

    /// <summary>Blocks (for use inside jobs) until <paramref name="condition"/> holds or <paramref name="timeout"/> passes.</summary>
    public static bool Within(TimeSpan timeout, Func<bool> condition) => SpinWait.SpinUntil(condition, timeout);
}
