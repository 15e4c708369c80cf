using System.Diagnostics;

namespace Coordination.Benchmarks.Locks;

/// <summary>Child OS processes of this benchmark (another <c>dotnet</c> running this assembly in a child mode).</summary>
internal static class Child
{
    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(typeof(Child).Assembly.Location);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start child {string.Join(' ', args)}.");
    }

    /// <summary>Waits until every child printed READY (connected and warmed up), then tells them all GO.</summary>
    public static async Task StartTogetherAsync(IReadOnlyList<Process> children, string what)
    {
        foreach (var c in children)
        {
            var ready = await c.StandardOutput.ReadLineAsync();
            if (ready != "READY")
            {
                throw new InvalidOperationException($"{what} child failed: {ready}");
            }
        }

        foreach (var c in children)
        {
            await c.StandardInput.WriteLineAsync("GO");
            await c.StandardInput.FlushAsync();
        }
    }
}
