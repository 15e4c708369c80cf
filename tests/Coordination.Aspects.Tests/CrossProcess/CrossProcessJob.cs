namespace Coordination.Aspects.Tests.CrossProcess;

/// <summary>The guarded work both processes run: it writes an enter and an exit line around a short pause.</summary>
public static class CrossProcessJob
{
    [Singleton("xproc:{name}")]
    public static async Task AppendAsync(string name, string log)
    {
        Write(log, "enter");
        // Widen the window in which a second holder would show up between enter and exit.
        await Task.Delay(15);
        Write(log, "exit");
    }

    private static void Write(string log, string what)
    {
        using var stream = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var writer = new StreamWriter(stream);
        writer.WriteLine($"{what} {Environment.ProcessId}");
    }
}
