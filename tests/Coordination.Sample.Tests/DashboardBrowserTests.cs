using System.Globalization;
using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>The sample's /coordination (the library's dashboard) rendered by headless Chromium while a lock is held on the other instance.</summary>
[Collection(SampleCollection.Name)]
public sealed class DashboardBrowserTests(SampleCluster cluster)
{
    [Fact]
    public async Task Dashboard_InHeadlessChromium_ShowsTheHeldLockItsFencingTokenAndTheHoldingInstance()
    {
        var id = "dash-" + Guid.NewGuid().ToString("N")[..8];
        var key = "orders:" + id;
        using var release = new CancellationTokenSource();

        // A holds the lock (up to 60 s; cancelling the request ends the hold and releases it).
        var holding = cluster.A.Client.PostAsync(new Uri($"api/orders/{id}/process?holdMs=60000", UriKind.Relative), null, release.Token);
        try
        {
            long token = 0;
            await Poll.UntilAsync(
                async () =>
                {
                    var held = await cluster.B.Client.FindHeldLockAsync(key);
                    token = held?.GetProperty("holder").GetProperty("fencingToken").GetInt64() ?? 0;
                    return held is not null && held.Value.GetProperty("holder").GetProperty("instance").ValueKind == System.Text.Json.JsonValueKind.String;
                },
                TimeSpan.FromSeconds(30),
                $"{key} listed as held by a named instance");

            // B's dashboard: the library's page fetches /coordination/api/snapshot and renders the table.
            var url = new Uri(cluster.B.BaseAddress, "coordination");
            var dom = await HeadlessChromium.DumpDomAsync(url);
            var row = HeadlessChromium.RowOf(dom, "data-key", key);
            Assert.True(row is not null, $"no row for {key} in the rendered dashboard:\n{dom}");
            Assert.Contains($"<td class=\"mono fencing-token\">{token}</td>", row, StringComparison.Ordinal);
            Assert.Contains(":" + cluster.A.BaseAddress.Port.ToString(CultureInfo.InvariantCulture), row, StringComparison.Ordinal); // the holder instance

            await HeadlessChromium.ScreenshotAsync(url, Path.Combine(AppContext.BaseDirectory, "dashboard-test.png"));
        }
        finally
        {
            await release.CancelAsync();
            try
            {
                (await holding).Dispose();
            }
            catch (OperationCanceledException)
            {
                // expected: the hold was cancelled
            }
        }
    }
}
