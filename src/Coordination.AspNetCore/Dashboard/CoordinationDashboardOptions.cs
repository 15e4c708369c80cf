namespace Coordination.AspNetCore.Dashboard;

/// <summary>Options of <c>MapCoordinationDashboard</c>: how often the page refreshes and what its charts and tables show.</summary>
public sealed class CoordinationDashboardOptions
{
    /// <summary>How often the page asks for a new snapshot. Default 2 s; 250 ms to 1 min.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How far back the charts reach, in 60 buckets (10 s each by default). Default 10 min; 1 min to 1 h.</summary>
    public TimeSpan ChartWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many of the busiest keys (most acquisitions and contentions in the window) get their own series. Default 5; 1 to 20.</summary>
    public int BusiestKeys { get; set; } = 5;

    /// <summary>Most rows per table (locks, semaphores, reader-writer locks, elections, instances). Default 100; 1 to 1000.</summary>
    public int MaxRows { get; set; } = 100;

    internal void Validate()
    {
        if (RefreshInterval < TimeSpan.FromMilliseconds(250) || RefreshInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(RefreshInterval), RefreshInterval, $"CoordinationDashboardOptions.RefreshInterval '{RefreshInterval}' must be between 250 ms and 1 min.");
        }

        if (ChartWindow < TimeSpan.FromMinutes(1) || ChartWindow > TimeSpan.FromHours(1))
        {
            throw new ArgumentOutOfRangeException(nameof(ChartWindow), ChartWindow, $"CoordinationDashboardOptions.ChartWindow '{ChartWindow}' must be between 1 min and 1 h.");
        }

        if (BusiestKeys is < 1 or > 20)
        {
            throw new ArgumentOutOfRangeException(nameof(BusiestKeys), BusiestKeys, $"CoordinationDashboardOptions.BusiestKeys {BusiestKeys} must be between 1 and 20.");
        }

        if (MaxRows is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRows), MaxRows, $"CoordinationDashboardOptions.MaxRows {MaxRows} must be between 1 and 1000.");
        }
    }
}
