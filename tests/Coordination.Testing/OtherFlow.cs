namespace Coordination.Testing;

/// <summary>
/// Runs work as another caller would: in an async flow of its own, started with the execution context's flow
/// suppressed, so none of the caller's lock scope (locks are re-entrant per flow) reaches it. Use it where a test means
/// "someone else tries the key", which used to be the same test method trying again.
/// </summary>
public static class OtherFlow
{
    /// <summary>Runs <paramref name="work"/> in a fresh flow.</summary>
    public static Task<T> Run<T>(Func<ValueTask<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(async () => await work());
        }
    }

    /// <summary>Runs <paramref name="work"/> in a fresh flow.</summary>
    public static Task<T> Run<T>(Func<Task<T>> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }

    /// <summary>Runs <paramref name="work"/> in a fresh flow.</summary>
    public static Task Run(Func<Task> work)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }
}
