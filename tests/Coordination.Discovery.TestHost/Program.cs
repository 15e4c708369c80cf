// A tiny app for the discovery tests' "process kill" case: it registers itself and answers GET / with its
// instance id. Settings come from the command line, e.g.
//   dotnet Coordination.Discovery.TestHost.dll --Coordination:ZooKeeper=127.0.0.1:2181 --Coordination:Redis=127.0.0.1:6379
//     --Coordination:ZooKeeperRoot=/t --Coordination:SessionTimeout=00:00:02 --Service=orders --InstanceId=a
// It prints "LISTENING <url>" once registered and then runs until killed or stdin closes.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var service = builder.Configuration["Service"] ?? throw new InvalidOperationException("--Service is required.");
var instanceId = builder.Configuration["InstanceId"] ?? throw new InvalidOperationException("--InstanceId is required.");
builder.Services.AddHybridCoordination().AddServiceRegistration(service, o => o.InstanceId = instanceId);

var app = builder.Build();
app.Urls.Add("http://127.0.0.1:0");
app.MapGet("/", () => instanceId);
await app.StartAsync();
Console.WriteLine("LISTENING " + app.Urls.First());

// Graceful stop when the parent closes stdin; a kill skips all of this.
_ = Task.Run(async () =>
{
    await Console.In.ReadToEndAsync();
    app.Lifetime.StopApplication();
});
await app.WaitForShutdownAsync();
