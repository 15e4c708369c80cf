using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Coordination.Testing;

namespace Coordination.AspNetCore.Tests.Dashboard;

/// <summary>The library's dashboard page rendered by headless Chromium against a real app on the real servers.</summary>
public sealed class DashboardBrowserTests
{
    [Fact]
    public async Task Dashboard_InHeadlessChromium_ShowsTheHeldLock_TheSemaphoresPermits_TheLeader_AndChartsWithDataPoints()
    {
        await using var app = await DashboardApp.StartAsync(election: "billing");
        var lockKey = "orders:" + TestNamespace.NewId();
        var semaphoreKey = "exports:" + TestNamespace.NewId();

        // Some traffic for the charts: acquisitions, and a contention on the held key.
        for (var i = 0; i < 5; i++)
        {
            await using var h = await app.Locks.AcquireAsync("warmup:" + i);
        }

        await using var held = await app.Locks.AcquireAsync(lockKey);
        Assert.Null(await OtherFlow.Run(() => app.Locks.TryAcquireAsync(lockKey))); // another caller contends (this flow would nest)
        await using var permit = await app.Semaphores.AcquireAsync(semaphoreKey, 3);

        JsonElement snapshot = default;
        await Poll.UntilAsync(
            async () =>
            {
                snapshot = await app.SnapshotAsync();
                return snapshot.GetProperty("locks").EnumerateArray().Any(l => l.GetProperty("key").GetString() == lockKey)
                    && snapshot.GetProperty("semaphores").EnumerateArray().Any(s => s.GetProperty("key").GetString() == semaphoreKey)
                    && snapshot.GetProperty("elections").EnumerateArray().Any(e => e.GetProperty("name").GetString() == "billing" && e.GetProperty("leader").ValueKind == JsonValueKind.Object)
                    && snapshot.GetProperty("instances").GetArrayLength() > 0;
            },
            "the snapshot lists the lock, the semaphore, the leader and the instance",
            detail: () => snapshot.ValueKind == JsonValueKind.Undefined ? "no snapshot" : snapshot.ToString());

        var dom = await HeadlessChromium.DumpDomAsync(new Uri(app.BaseAddress, "coordination"));
        await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "dashboard-library.html"), dom); // for a failure's post-mortem
        var port = app.BaseAddress.Port.ToString(CultureInfo.InvariantCulture);

        var lockRow = HeadlessChromium.RowOf(dom, "data-key", lockKey);
        Assert.True(lockRow is not null, $"no row for {lockKey} in the rendered dashboard:\n{dom}");
        Assert.Contains($"<td class=\"mono fencing-token\">{held.FencingToken}</td>", lockRow, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:" + port, lockRow, StringComparison.Ordinal); // the holder is named after its registered instance

        var semaphoreRow = HeadlessChromium.RowOf(dom, "data-key", semaphoreKey);
        Assert.True(semaphoreRow is not null, $"no row for {semaphoreKey}:\n{dom}");
        Assert.Contains("<td class=\"permits\">1 / 3</td>", semaphoreRow, StringComparison.Ordinal);
        Assert.Contains($"<span class=\"mono fencing-token\">{permit.FencingToken}</span>", semaphoreRow, StringComparison.Ordinal);

        var electionRow = HeadlessChromium.RowOf(dom, "data-election", "billing");
        Assert.True(electionRow is not null, $"no row for the election:\n{dom}");
        Assert.Contains("127.0.0.1:" + port + " (this)", electionRow, StringComparison.Ordinal);

        Assert.True(ChartPoints(dom, "latency") > 0, $"the latency chart has no data point:\n{dom}");
        Assert.True(ChartPoints(dom, "events") > 0, "the contention chart has no bar although a try-once was refused");
        Assert.True(ChartPoints(dom, "keys") > 0, "the busiest-keys chart has no data point");
        Assert.Contains("Updated ", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh failed", dom, StringComparison.Ordinal);

        await HeadlessChromium.ScreenshotAsync(new Uri(app.BaseAddress, "coordination"), Path.Combine(AppContext.BaseDirectory, "dashboard-library.png"), 1280, 1500);
    }

    private static int ChartPoints(string dom, string chart)
    {
        var m = Regex.Match(dom, $"data-chart=\"{chart}\"[^>]*data-points=\"(\\d+)\"");
        return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }
}
