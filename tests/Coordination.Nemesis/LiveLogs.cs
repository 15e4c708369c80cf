using System.Text;

namespace Coordination.Nemesis;

/// <summary>Follows the workers' log files while they run, so the orchestrator can see grants and current holders.</summary>
internal sealed class LiveLogs(string directory)
{
    private readonly Dictionary<string, (long Offset, string Partial)> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastGrant = new(StringComparer.Ordinal); // primitive -> timestamp
    private readonly Dictionary<string, long> _holding = new(StringComparer.Ordinal); // task -> token

    public void Refresh()
    {
        foreach (var path in Directory.EnumerateFiles(directory, "w*.log"))
        {
            var (offset, partial) = _files.GetValueOrDefault(path, (0, ""));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[stream.Length - offset];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            var text = partial + Encoding.UTF8.GetString(buffer, 0, read);
            var lastNewline = text.LastIndexOf('\n');
            foreach (var line in text[..(lastNewline + 1)].Split('\n'))
            {
                if (NemesisEvent.Parse(line) is { } e)
                {
                    Apply(e);
                }
            }

            _files[path] = (offset + read, text[(lastNewline + 1)..]);
        }
    }

    public bool GrantedAfter(string primitive, long timestamp) => _lastGrant.TryGetValue(primitive, out var last) && last > timestamp;

    /// <summary>Worker processes with a task of the primitive (any when null) that was granted and has not released or been told it lost.</summary>
    public IEnumerable<string> HoldingWorkers(string? primitive) =>
        _holding.Keys.Where(t => primitive is null || NemesisPrimitive.Of(t) == primitive).Select(t => t.Split('.')[0]).Distinct();

    private void Apply(NemesisEvent e)
    {
        switch (e.Name)
        {
            case "granted":
                var primitive = NemesisPrimitive.Of(e.Source) ?? NemesisPrimitive.Lock;
                _lastGrant[primitive] = Math.Max(_lastGrant.GetValueOrDefault(primitive), e.Timestamp);
                _holding[e.Source] = e.LongField("token");
                break;
            case "release-start" or "lost":
                _holding.Remove(e.Source);
                break;
        }
    }
}
