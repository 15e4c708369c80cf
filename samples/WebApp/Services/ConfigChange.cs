namespace WebApp.Services;

/// <summary>One batch of configuration changes.</summary>
public sealed record ConfigChange(DateTimeOffset At, IReadOnlyList<string> Keys);
