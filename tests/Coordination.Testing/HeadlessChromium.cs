using System.Diagnostics;
using System.Text;
using Xunit;

namespace Coordination.Testing;

/// <summary>
/// Debian's <c>chromium</c> run headless (installed by <c>eng/servers.sh install</c>): the DOM a page has after its
/// scripts ran for a virtual-time budget, or a screenshot. Each run gets its own throw-away profile.
/// </summary>
public static class HeadlessChromium
{
    /// <summary>The chromium executable on PATH.</summary>
    /// <exception cref="InvalidOperationException">No chromium is installed.</exception>
    public static string Find()
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

    /// <summary>The serialized DOM of <paramref name="url"/> after its scripts ran for <paramref name="budgetMs"/> of virtual time.</summary>
    public static Task<string> DumpDomAsync(Uri url, int budgetMs = 3000, int width = 1280, int height = 900) =>
        RunAsync(["--dump-dom", $"--window-size={width},{height}", $"--virtual-time-budget={budgetMs}", url.ToString()]);

    /// <summary>Writes a PNG of <paramref name="url"/> to <paramref name="path"/> after <paramref name="budgetMs"/> of virtual time.</summary>
    public static async Task ScreenshotAsync(Uri url, string path, int width = 1280, int height = 900, int budgetMs = 3000)
    {
        File.Delete(path);
        await RunAsync([$"--screenshot={path}", $"--window-size={width},{height}", "--hide-scrollbars", $"--virtual-time-budget={budgetMs}", url.ToString()]);
        Assert.True(new FileInfo(path).Length > 0, $"Chromium wrote no screenshot to {path}");
    }

    private static async Task<string> RunAsync(IEnumerable<string> arguments)
    {
        var profile = Directory.CreateTempSubdirectory("coord-chromium-");
        try
        {
            var info = new ProcessStartInfo(Find()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={profile.FullName}" })
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

    /// <summary>The markup of the first <c>&lt;tr&gt;</c> carrying <paramref name="attribute"/>=<paramref name="value"/>, or null.</summary>
    public static string? RowOf(string dom, string attribute, string value)
    {
        var start = dom.IndexOf($"<tr {attribute}=\"{value}\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var end = dom.IndexOf("</tr>", start, StringComparison.Ordinal);
        return end < 0 ? dom[start..] : dom[start..end];
    }
}
