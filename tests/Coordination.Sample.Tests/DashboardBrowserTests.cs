using System.Diagnostics;
using System.Text;
using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>The /coordination page rendered by headless Chromium (Debian's <c>chromium</c>) while a lock is held.</summary>
[Collection(SampleCollection.Name)]
public sealed class DashboardBrowserTests(SampleCluster cluster)
{
    [Fact]
    public async Task Dashboard_InHeadlessChromium_ShowsTheHeldLockAndItsFencingToken()
    {
        var chromium = FindChromium();
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
                    token = held?.GetProperty("fencingToken").GetInt64() ?? 0;
                    return held is not null;
                },
                TimeSpan.FromSeconds(30),
                $"{key} listed as held");

            // B's dashboard: its script fetches /api/coordination and renders the table.
            var url = new Uri(cluster.B.BaseAddress, "coordination");
            var dom = await RunChromiumAsync(chromium, ["--dump-dom", url.ToString()]);
            var row = RowOf(dom, key);
            Assert.True(row is not null, $"no row for {key} in the rendered dashboard:\n{dom}");
            Assert.Contains($"<td class=\"mono fencing-token\">{token}</td>", row, StringComparison.Ordinal);
            Assert.Contains(cluster.A.Name, row, StringComparison.Ordinal); // the holder instance

            var screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard-test.png");
            File.Delete(screenshot);
            await RunChromiumAsync(chromium, [$"--screenshot={screenshot}", "--window-size=1280,900", url.ToString()]);
            Assert.True(new FileInfo(screenshot).Length > 0, $"Chromium wrote no screenshot to {screenshot}");
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

    private static string? RowOf(string dom, string key)
    {
        var start = dom.IndexOf($"<tr data-key=\"{key}\">", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var end = dom.IndexOf("</tr>", start, StringComparison.Ordinal);
        return end < 0 ? dom[start..] : dom[start..end];
    }

    private static string FindChromium()
    {
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        throw new InvalidOperationException("Chromium was not found on PATH; eng/servers.sh install (or apt-get install chromium) installs it.");
    }

    private static async Task<string> RunChromiumAsync(string chromium, IEnumerable<string> arguments)
    {
        var profile = Directory.CreateTempSubdirectory("sample-chromium-");
        try
        {
            var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={profile.FullName}", "--virtual-time-budget=3000" })
            {
                info.ArgumentList.Add(a);
            }

            foreach (var a in arguments)
            {
                info.ArgumentList.Add(a);
            }

            using var process = Process.Start(info)!;
            var stderr = new StringBuilder();
            process.ErrorDataReceived += (_, e) =>
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"Chromium did not finish within 90 s: {stderr}");
            }

            var output = await stdout;
            Assert.True(process.ExitCode == 0, $"Chromium exited with {process.ExitCode}: {stderr}");
            return output;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}
