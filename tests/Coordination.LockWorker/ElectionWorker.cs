using System.Diagnostics;
using System.Globalization;
using Coordination.Elections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.LockWorker;

/// <summary>The <c>elect</c> verb: one election candidate per OS process, reporting its terms on stdout.</summary>
internal static class ElectionWorker
{
    public static async Task<int> RunAsync(string[] args)
    {
        var (redis, zk, prefix, root, name) = (args[1], args[2], args[3], args[4], args[5]);
        var sessionTimeout = TimeSpan.FromMilliseconds(int.Parse(args[6], CultureInfo.InvariantCulture));
        var instanceId = args[7];
        var services = new ServiceCollection();
        services.AddHybridCoordination(o =>
        {
            o.Redis = redis;
            o.ZooKeeper = zk;
            o.RedisPrefix = prefix;
            o.ZooKeeperRoot = root;
            o.SessionTimeout = sessionTimeout;
            o.ConnectTimeout = TimeSpan.FromSeconds(15); // cold child processes on a loaded 2-core CI machine
        }).AddLeaderElection(name, o => o.InstanceId = instanceId);
        await using var sp = services.BuildServiceProvider();
        var election = sp.GetRequiredKeyedService<ILeaderElection>(name);
        // JOINED always comes first: a candidate elected at once (its node first in the queue) may raise ELECTED
        // before the loop below sees its state, so whichever line goes out first says JOINED.
        var gate = new object();
        var joined = false;
        void Joined()
        {
            lock (gate)
            {
                if (!joined)
                {
                    joined = true;
                    Console.WriteLine($"JOINED {Stopwatch.GetTimestamp()}");
                }
            }
        }

        election.LeadershipChanged += (_, e) =>
        {
            if (e.IsLeader)
            {
                var ts = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    Joined();
                    Console.WriteLine($"ELECTED {e.FencingToken} {ts}");
                }
            }
        };

        // The token fires before the node is deleted: ENDED is the moment this process stopped leading.
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var token = await election.WaitForLeadershipAsync();
                var fencing = election.FencingToken;
                var ended = new TaskCompletionSource<long>();
                token.Register(() => ended.TrySetResult(Stopwatch.GetTimestamp()));
                Console.WriteLine($"ENDED {fencing} {await ended.Task}");
            }
        });

        var hosted = sp.GetServices<IHostedService>().ToList();
        foreach (var h in hosted)
        {
            await h.StartAsync(CancellationToken.None);
        }

        while (election.State is not (LeaderElectionState.Follower or LeaderElectionState.Leader))
        {
            await Task.Delay(5);
        }

        Joined();
        while (Console.ReadLine() is { } line)
        {
            switch (line.Trim())
            {
                case "stop":
                    for (var i = hosted.Count - 1; i >= 0; i--)
                    {
                        await hosted[i].StopAsync(CancellationToken.None);
                    }

                    Console.WriteLine($"STOPPED {Stopwatch.GetTimestamp()}");
                    return 0;
                case "leader":
                    var leader = await election.GetLeaderAsync();
                    Console.WriteLine(leader is null ? "LEADER none" : $"LEADER {leader.InstanceId} {leader.FencingToken}");
                    break;
            }
        }

        return 0;
    }
}
