using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace Coordination.Tests.Elections;

/// <summary>
/// One election candidate in its own OS process (the lock worker's <c>elect</c> verb): its stdout lines are read
/// as events; timestamps are Stopwatch ticks, comparable with this process's on the same machine.
/// </summary>
internal sealed class ElectionProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly Task<string> _stderr;

    private ElectionProcess(Process process, string instanceId)
    {
        _process = process;
        InstanceId = instanceId;
        _ = PumpAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string InstanceId { get; }

    public int Pid => _process.Id;

    public static ElectionProcess Start(string zooKeeper, string prefix, string root, string election, int sessionTimeoutMs, string instanceId)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Locks.MultiProcessTests.WorkerDll());
        foreach (var a in new[] { "elect", TestEnv.Redis, zooKeeper, prefix, root, election, sessionTimeoutMs.ToString(CultureInfo.InvariantCulture), instanceId })
        {
            psi.ArgumentList.Add(a);
        }

        return new ElectionProcess(Process.Start(psi) ?? throw new InvalidOperationException("worker did not start"), instanceId);
    }

    private async Task PumpAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            await _lines.Writer.WriteAsync(line);
        }

        _lines.Writer.TryComplete();
    }

    /// <summary>The next event line, which must start with <paramref name="verb"/>; returns its fields after the verb.</summary>
    public async Task<string[]> NextAsync(string verb, TimeSpan? timeout = null)
    {
        string line;
        try
        {
            line = await _lines.Reader.ReadAsync().AsTask().WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is TimeoutException or ChannelClosedException)
        {
            var stderr = _process.HasExited ? await _stderr : "(running)";
            throw new InvalidOperationException($"{InstanceId}: no '{verb}' line ({ex.GetType().Name}); stderr: {stderr}", ex);
        }

        var parts = line.Split(' ');
        Assert.True(parts[0] == verb, $"{InstanceId}: expected '{verb}', got '{line}'");
        return parts[1..];
    }

    /// <summary>True when an event line is waiting (nothing read).</summary>
    public bool HasPendingLine => _lines.Reader.TryPeek(out _);

    public Task SendAsync(string command) => _process.StandardInput.WriteLineAsync(command);

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    public static long Ts(string field) => long.Parse(field, CultureInfo.InvariantCulture);

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
