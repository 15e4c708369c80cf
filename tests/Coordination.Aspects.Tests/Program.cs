using Coordination.Aspects.Tests.CrossProcess;

namespace Coordination.Aspects.Tests;

/// <summary>
/// The test assembly doubles as the child process of the cross-process test
/// (<c>dotnet Coordination.Aspects.Tests.dll cross-process-probe ...</c>); otherwise the test host runs it.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["cross-process-probe", var locks, var name, var log, var go, var iterations])
        {
            SingletonRuntime.Provider = Behaviour.LockProviderFixture.CreateCrossProcessProvider(locks);
            await File.WriteAllTextAsync(log + "." + Environment.ProcessId + ".ready", string.Empty);
            while (!File.Exists(go))
            {
                await Task.Delay(5);
            }

            for (var i = 0; i < int.Parse(iterations, System.Globalization.CultureInfo.InvariantCulture); i++)
            {
                await CrossProcessJob.AppendAsync(name, log);
            }

            return 0;
        }

        return 0;
    }
}
