using System.Net;
using Coordination.Testing;

namespace Coordination.Sample.Tests;

/// <summary>
/// The sample against the secure servers, configured as eng/run-sample.sh --secure does: ZooKeeper over TLS with the
/// client certificate and digest credentials, Redis over TLS as the ACL user (which may touch coord:* and webapp:* only).
/// </summary>
public sealed class SecureSampleTests
{
    [Fact]
    public async Task AgainstTheSecureServers_LocksConfigurationAndHangfireWork_AndNoPasswordIsShownOrLogged()
    {
        var servers = TestServers.Current;
        var ns = TestNamespace.Create();
        var zkSecret = "sample-" + TestNamespace.NewId();
        var environment = new Dictionary<string, string>
        {
            ["Coordination__Redis"] = $"{servers.RedisTls},ssl=true,user={servers.RedisAclUser},password={servers.RedisAclPassword}",
            ["Coordination__RedisTls__CaFile"] = servers.TlsCaFile,
            ["Coordination__RedisPrefix"] = "coord:" + ns.KeyPrefix,
            ["Coordination__ZooKeeper"] = servers.ZooKeeperTls + ns.Chroot,
            ["Coordination__ZooKeeperAuth"] = "webapp:" + zkSecret,
            ["Coordination__ZooKeeperTls__Enabled"] = "true",
            ["Coordination__ZooKeeperTls__CaFile"] = servers.TlsCaFile,
            ["Coordination__ZooKeeperTls__ClientCertificateFile"] = servers.TlsClientCertificateFile,
            ["Coordination__ZooKeeperTls__ClientKeyFile"] = servers.TlsClientKeyFile,
            ["Sample__HangfirePrefix"] = $"webapp:{ns.Id}:hangfire:",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        await using var sample = await SampleProcess.StartAsync(environment, TimeSpan.FromSeconds(90));

        using (var order = await sample.Client.PostAsync(new Uri("api/orders/7/process", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, order.StatusCode);
        }

        using (var put = await sample.Client.PutAsync(new Uri("api/config/Greeting", UriKind.Relative), new StringContent("hello over TLS")))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        }

        // Hangfire runs on Coordination's multiplexer (TLS, ACL user): the job is stored, fetched and run.
        string jobId;
        using (var job = await sample.Client.PostAsync(new Uri("api/jobs/report?seconds=0", UriKind.Relative), null))
        {
            jobId = (await Http.ReadJsonAsync(job, HttpStatusCode.OK)).GetProperty("jobId").GetString()!;
        }

        await Poll.UntilAsync(async () =>
        {
            using var state = await sample.Client.GetAsync(new Uri($"api/jobs/{jobId}", UriKind.Relative));
            return (await Http.ReadJsonAsync(state, HttpStatusCode.OK)).GetProperty("state").GetString() == "Succeeded";
        }, "the Hangfire job succeeds", TimeSpan.FromSeconds(60));

        var health = await sample.Client.GetStringAsync(new Uri("health", UriKind.Relative));
        var snapshot = await sample.Client.GetStringAsync(new Uri("coordination/api/snapshot", UriKind.Relative)); // the dashboard's JSON
        Assert.Contains("\"Connected\"", snapshot, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => (await sample.Client.GetStringAsync(new Uri("api/config", UriKind.Relative))).Contains("hello over TLS", StringComparison.Ordinal), "the written key reaches the live configuration");
        foreach (var secret in new[] { servers.RedisAclPassword, zkSecret })
        {
            Assert.DoesNotContain(secret, health, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, snapshot, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, sample.Output, StringComparison.Ordinal);
        }

        Assert.Contains("\"status\":\"Healthy\"", health, StringComparison.Ordinal);
    }
}
