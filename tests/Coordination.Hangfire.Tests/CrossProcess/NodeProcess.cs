using System.Diagnostics;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>A Hangfire server node in its own OS process (this test assembly run with <see cref="Program.NodeVerb"/>).</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeProcess(string redis, string prefix, int workers)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add(Program.NodeVerb);
        start.ArgumentList.Add(redis);
        start.ArgumentList.Add(prefix);
        start.ArgumentList.Add(workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start a node process");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "ready")
            {
                _ready.TrySetResult();
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Errors.Add(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public System.Collections.Concurrent.ConcurrentBag<string> Errors { get; } = [];

    public Task Ready => _ready.Task.WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>Asks the node to stop (closes its standard input) and waits; kills it if it does not exit.</summary>
    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(20_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
