using Coordination.Hangfire.Tests.Infrastructure;
using Coordination.Locks;
using Hangfire;
using Hangfire.Redis.StackExchange;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Hangfire.Tests.CrossProcess;

/// <summary>
/// <c>dotnet Coordination.Hangfire.Tests.dll hangfire-node &lt;redis&gt; &lt;prefix&gt; &lt;workers&gt;</c> runs a Hangfire
/// server on Redis storage with the fixture's lock mode, prints "ready", and stops when its standard input closes.
/// The test runner never calls Main; the cross-process tests start it as a separate OS process.
/// </summary>
public static class Program
{
    public const string NodeVerb = "hangfire-node";

    public static int Main(string[] args)
    {
        if (args.Length != 4 || args[0] != NodeVerb)
        {
            Console.Error.WriteLine($"usage: {NodeVerb} <redis> <prefix> <workers>");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddHybridCoordination(HangfireFixture.ConfigureLocks);
        using var sp = services.BuildServiceProvider();
        GlobalConfiguration.Configuration.UseHybridCoordination(sp.GetRequiredService<IDistributedLockProvider>());
        var storage = new RedisStorage(args[1], new RedisStorageOptions { Prefix = args[2] });
        using (new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                ServerName = $"node-{Environment.ProcessId}",
                WorkerCount = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture),
                SchedulePollingInterval = TimeSpan.FromMilliseconds(100),
                ShutdownTimeout = TimeSpan.FromSeconds(10),
            },
            storage))
        {
            Console.Out.WriteLine("ready");
            Console.Out.Flush();
            while (Console.In.ReadLine() is not null)
            {
            }
        }

        return 0;
    }
}
