using System.Diagnostics;

namespace Coordination.Nemesis;

/// <summary>Appends <see cref="NemesisEvent"/> lines to a file, flushed per line so a kill -9 loses at most the line being written.</summary>
internal sealed class EventLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    public EventLog(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    /// <summary>The shared monotonic clock (CLOCK_MONOTONIC on Linux, the same in every process).</summary>
    public static long Now() => Stopwatch.GetTimestamp();

    public void Write(string source, string name, params (string Key, object Value)[] fields) => Write(Now(), source, name, fields);

    public void Write(long timestamp, string source, string name, params (string Key, object Value)[] fields)
    {
        var line = NemesisEvent.Create(timestamp, source, name, fields).Format();
        lock (_lock)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _writer.Dispose();
        }
    }
}
