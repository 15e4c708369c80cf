using System.Text;
using Coordination.Locks;

namespace Coordination.Aspects.Tests.CrossProcess;

/// <summary>
/// Test fake with real cross-process exclusion: a lock is an exclusively opened file (.NET takes an OS file lock for
/// <see cref="FileShare.None"/>). Waiting retries briefly; this is a fake for proving the aspect in two OS processes,
/// not a lock implementation.
/// </summary>
internal sealed class FileLockProvider(string directory) : IDistributedLockProvider
{
    private long _tokens;

    public async ValueTask<IDistributedLockHandle?> TryAcquireAsync(string key, TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(directory, Convert.ToHexString(Encoding.UTF8.GetBytes(key)) + ".lock");
        var deadline = timeout == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                return new Handle(key, Interlocked.Increment(ref _tokens), stream);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(5, cancellationToken);
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    public async ValueTask<IDistributedLockHandle> AcquireAsync(string key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await TryAcquireAsync(key, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken)
        ?? throw new TimeoutException($"Timed out acquiring '{key}'.");

    private sealed class Handle(string key, long token, FileStream stream) : IDistributedLockHandle
    {
        public string Key => key;
        public long FencingToken => token;
        public CancellationToken LostToken => CancellationToken.None;
        public DateTimeOffset AcquiredAt { get; } = DateTimeOffset.UtcNow;
        public LockMode Mode => LockMode.InProcess;

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}
