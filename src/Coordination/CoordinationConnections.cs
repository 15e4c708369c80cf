namespace Coordination;

/// <summary>The process-wide Redis multiplexer and ZooKeeper session shared by every Coordination feature.</summary>
internal sealed class CoordinationConnections : IAsyncDisposable
{
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
