namespace Coordination.AspNetCore.Tests.Infrastructure;

/// <summary>
/// Same shape as Coordination.Aspects' and Coordination.Hangfire's <c>[Singleton]</c> (a string <c>Key</c>, a
/// string <c>Timeout</c>, <c>GetWaitTimeout()</c>): the endpoint integration recognises it by shape.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class SingletonAttribute(string key) : Attribute
{
    public string Key { get; } = key;

    public string? Timeout { get; set; }

    public TimeSpan GetWaitTimeout() => Timeout is null ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.Parse(Timeout, System.Globalization.CultureInfo.InvariantCulture);
}
