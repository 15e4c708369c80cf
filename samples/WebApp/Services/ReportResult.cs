namespace WebApp.Services;

/// <summary>The outcome of one rebuild.</summary>
public sealed record ReportResult(string Tenant, string Instance, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);
