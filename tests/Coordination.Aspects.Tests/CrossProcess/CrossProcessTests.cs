using System.Diagnostics;
using Coordination.Aspects.Tests.Behaviour;
using Coordination.Testing;
using Xunit;

namespace Coordination.Aspects.Tests.CrossProcess;

public sealed class CrossProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("singleton-xproc-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TwoProcesses_CallingTheSameMarkedMethod_NeverOverlap()
    {
        const int iterations = 10;
        var log = Path.Combine(_directory, "log.txt");
        var go = Path.Combine(_directory, "go");
        var children = Enumerable.Range(0, 2).Select(_ => StartChild(log, go, iterations)).ToArray();
        try
        {
            await Poll.UntilAsync(() => Directory.GetFiles(_directory, "log.txt.*.ready").Length == 2, "both children are ready");
            await File.WriteAllTextAsync(go, string.Empty);
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            foreach (var child in children)
            {
                await child.WaitForExitAsync(deadline.Token);
                Assert.True(child.ExitCode == 0, $"child {child.Id} exited with {child.ExitCode}: {await child.StandardError.ReadToEndAsync()}");
            }
        }
        finally
        {
            foreach (var child in children.Where(c => !c.HasExited))
            {
                child.Kill();
            }
        }

        var lines = await File.ReadAllLinesAsync(log);
        Assert.Equal(2 * 2 * iterations, lines.Length);
        for (var i = 0; i < lines.Length; i += 2)
        {
            // Each enter is followed by the exit of the same process: no other process got in between.
            var pid = lines[i]["enter ".Length..];
            Assert.Equal($"enter {pid}", lines[i]);
            Assert.Equal($"exit {pid}", lines[i + 1]);
        }

        Assert.Equal(children.Select(c => c.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Order(), lines.Select(l => l.Split(' ')[1]).Distinct().Order());
        foreach (var child in children)
        {
            child.Dispose();
        }
    }

    private Process StartChild(string log, string go, int iterations)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { typeof(Program).Assembly.Location, "cross-process-probe", _directory, "job", log, go, iterations.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the child process.");
    }
}
