// Fault-injection harness for the hybrid lock (see README "Nemesis"). Verbs:
//   run     --out <dir> [--profile short|long] [--workers 3] [--tasks 2] [--session-ms 4000] [--wedge-bound-s 15]
//           [--resume-bound-ms 2000] [--referee-port 6399]
//           servers from COORD_* / endpoints.env (eng/servers.sh); exit 0 = pass, 1 = safety or liveness failure
//           [--primitives lock,sem,rw,elect] [--permits 2]
//   worker  (started by run) one process looping acquire -> critical section -> release, per primitive on its own key
//   analyse --dir <dir> [--wedge-bound-s 15] [--resume-bound-ms 2000] [--profile name]   re-judges the logs of an earlier run
using Coordination.Nemesis;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Coordination.Nemesis run|worker|analyse [--option value]...");
    return 2;
}

try
{
    var options = new NemesisArgs(args.Skip(1));
    switch (args[0])
    {
        case "run":
            return await NemesisRun.RunAsync(options);
        case "worker":
            return await NemesisWorker.RunAsync(options);
        case "analyse":
            var reports = LogAnalyser.AnalyseDirectory(
                options.Required("dir"),
                TimeSpan.FromSeconds(options.Int("wedge-bound-s", 15)),
                TimeSpan.FromMilliseconds(options.Int("resume-bound-ms", (int)LogAnalyser.DefaultResumeBound.TotalMilliseconds)));
            Console.Write(AnalysisReport.Print(reports, options.Optional("profile", "?")));
            return reports.Count > 0 && reports.All(r => r.Passed) ? 0 : 1;
        default:
            Console.Error.WriteLine($"unknown verb '{args[0]}'; use run, worker or analyse");
            return 2;
    }
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 2;
}
