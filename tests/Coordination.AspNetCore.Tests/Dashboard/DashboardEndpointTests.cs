using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Coordination.AspNetCore.Dashboard;
using Coordination.Locks;
using Coordination.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.Tests.Dashboard;

/// <summary>The dashboard's endpoints on an in-memory server (InProcess mode): who may see it, what it serves, bad input.</summary>
public sealed class DashboardEndpointTests
{
    private static readonly string[] Paths = ["/coordination", "/coordination/api/snapshot", "/coordination/assets/dashboard.js"];

    [Fact]
    public async Task WithoutAPolicy_ARemoteRequest_GetsA403_OnThePageTheJsonAndTheAssets()
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard());
        foreach (var path in Paths)
        {
            using var response = await SendAsync(app, path, remote: "10.1.2.3");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("local requests only", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task WithoutAPolicy_ALocalRequest_IsServed(string remote)
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard());
        foreach (var path in Paths)
        {
            using var response = await SendAsync(app, path, remote);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task RequireAuthorization_GuardsEveryEndpoint_AndOpensThemToAnAuthorizedRemoteUser()
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard().RequireAuthorization("ops"), auth: true);
        foreach (var path in Paths)
        {
            using (var anonymous = await SendAsync(app, path, remote: "127.0.0.1"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode); // the policy applies, even locally
            }

            using (var wrongRole = await SendAsync(app, path, remote: "10.1.2.3", role: "dev"))
            {
                Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
            }

            using var ops = await SendAsync(app, path, remote: "10.1.2.3", role: "ops");
            Assert.Equal(HttpStatusCode.OK, ops.StatusCode);
        }
    }

    [Fact]
    public async Task AllowAnonymous_OpensTheDashboardToRemoteRequests()
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard().AllowAnonymous());
        using var response = await SendAsync(app, "/coordination/api/snapshot", remote: "10.1.2.3");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ThePage_LinksItsOwnAssetsUnderItsPath_WithAContentSecurityPolicy_AndTheAssetsRevalidateByETag()
    {
        await using var app = await StartAsync(a => a.MapGroup("/ops").MapCoordinationDashboard("/locks", o => o.RefreshInterval = TimeSpan.FromSeconds(5)));
        using var page = await SendAsync(app, "/ops/locks/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("src=\"/ops/locks/assets/dashboard.js?v=", html, StringComparison.Ordinal);
        Assert.Contains("data-refresh-ms=\"5000\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        using var script = await SendAsync(app, "/ops/locks/assets/dashboard.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        var etag = script.Headers.ETag!.Tag;
        using var again = await SendAsync(app, "/ops/locks/assets/dashboard.js", configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        using var missing = await SendAsync(app, "/ops/locks/assets/secrets.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var template = await SendAsync(app, "/ops/locks/assets/index.html");
        Assert.Equal(HttpStatusCode.NotFound, template.StatusCode);
    }

    [Fact]
    public async Task TheSnapshot_InProcessMode_ListsLocalState_AndWatchesLongWaits()
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard());
        using var response = await SendAsync(app, "/coordination/api/snapshot");
        var json = await response.Content.ReadAsStringAsync();
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var s = doc.RootElement;
        Assert.Equal("InProcess", s.GetProperty("mode").GetProperty("engine").GetString());
        Assert.False(s.GetProperty("zooKeeper").GetProperty("configured").GetBoolean());
        Assert.True(s.GetProperty("longWaits").GetProperty("tracked").GetBoolean());
        Assert.Equal(30_000, s.GetProperty("longWaits").GetProperty("thresholdMs").GetDouble());
        Assert.Equal(60, s.GetProperty("metrics").GetProperty("points").GetArrayLength());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task TheSnapshot_ListsAWaitPastTheThreshold_WithWhatTheWaiterHoldsAndTheHolder()
    {
        await using var app = await StartAsync(a => a.MapCoordinationDashboard(), longWaitAfter: TimeSpan.FromMilliseconds(200));
        var locks = app.Services.GetRequiredService<IDistributedLockProvider>();
        var key = "report:" + Guid.NewGuid().ToString("N");
        var other = "tenant:" + Guid.NewGuid().ToString("N");
        await using var held = await OtherFlow.Run(() => locks.AcquireAsync(key));
        var waiting = OtherFlow.Run(async () =>
        {
            await using var mine = await locks.AcquireAsync(other);
            await using var next = await locks.AcquireAsync(key, TimeSpan.FromSeconds(60));
        });

        JsonElement wait = default;
        await Poll.UntilAsync(
            async () =>
            {
                using var response = await SendAsync(app, "/coordination/api/snapshot");
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var items = doc.RootElement.GetProperty("longWaits").GetProperty("items");
                wait = items.EnumerateArray().FirstOrDefault(w => w.GetProperty("key").GetString() == key).Clone();
                return wait.ValueKind == JsonValueKind.Object;
            },
            "the dashboard lists the long wait");

        Assert.Equal("lock", wait.GetProperty("kind").GetString());
        Assert.Equal(60_000, wait.GetProperty("timeoutMs").GetDouble());
        Assert.Contains(wait.GetProperty("heldByWaiter").EnumerateArray(), h => h.GetString()!.Contains(other, StringComparison.Ordinal));
        Assert.False(string.IsNullOrEmpty(wait.GetProperty("holder").GetString()));
        await held.DisposeAsync();
        await waiting.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("coordination")]
    [InlineData("/coordination/{id}")]
    [InlineData("/a//b")]
    public void MapCoordinationDashboard_WithAPatternThatIsNotALiteralPath_ThrowsNamingIt(string pattern)
    {
        var app = Build();
        var ex = Assert.Throws<ArgumentException>(() => app.MapCoordinationDashboard(pattern));
        Assert.Equal("pattern", ex.ParamName);
        Assert.Contains($"'{pattern}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(CoordinationDashboardOptions.RefreshInterval), "00:00:00.1000000")]
    [InlineData(nameof(CoordinationDashboardOptions.ChartWindow), "02:00:00")]
    [InlineData(nameof(CoordinationDashboardOptions.BusiestKeys), "0")]
    [InlineData(nameof(CoordinationDashboardOptions.MaxRows), "5000")]
    public void MapCoordinationDashboard_WithAnOptionOutOfRange_ThrowsNamingTheOptionAndTheValue(string option, string value)
    {
        var app = Build();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => app.MapCoordinationDashboard(configure: o =>
        {
            switch (option)
            {
                case nameof(o.RefreshInterval): o.RefreshInterval = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case nameof(o.ChartWindow): o.ChartWindow = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case nameof(o.BusiestKeys): o.BusiestKeys = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                default: o.MaxRows = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }));
        Assert.Equal(option, ex.ParamName);
        Assert.Contains($"CoordinationDashboardOptions.{option}", ex.Message, StringComparison.Ordinal);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapCoordinationDashboard_WithoutTheCoordinationServices_SaysWhatToCall()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var app = builder.Build();
        var ex = Assert.Throws<InvalidOperationException>(() => app.MapCoordinationDashboard());
        Assert.Contains("AddHybridCoordination", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LatencyHistogram_Quantiles_AreWithinTwoAndAQuarterPercentOfTheExactOnes()
    {
        var random = new Random(7);
        var samples = Enumerable.Range(0, 10_000).Select(_ => Math.Exp(random.NextDouble() * 12 - 4)).ToArray(); // 0.02 ms .. 3 s
        var histogram = new LatencyHistogram();
        foreach (var s in samples)
        {
            histogram.Record(s);
        }

        Array.Sort(samples);
        foreach (var q in new[] { 0.5, 0.9, 0.99 })
        {
            var exact = samples[(int)Math.Ceiling(q * samples.Length) - 1];
            var estimate = histogram.Quantile(q)!.Value;
            Assert.InRange(estimate / exact, 1 / 1.0225, 1.0225);
        }

        Assert.Null(new LatencyHistogram().Quantile(0.5));
    }

    private static WebApplication Build(bool auth = false, TimeSpan? longWaitAfter = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Services.AddHybridCoordination(o =>
        {
            o.Mode = LockMode.InProcess;
            o.LongWaitWarningAfter = longWaitAfter ?? o.LongWaitWarningAfter;
        });
        if (auth)
        {
            builder.Services.AddAuthentication("Test").AddScheme<AuthenticationSchemeOptions, RoleHeaderAuthentication>("Test", null);
            builder.Services.AddAuthorization(o => o.AddPolicy("ops", p => p.RequireRole("ops")));
        }

        var app = builder.Build();

        // The test client has no address: the X-Remote header plays the client's.
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue("X-Remote", out var remote))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(remote!);
                context.Connection.LocalIpAddress = IPAddress.Parse("10.9.9.9");
            }

            return next(context);
        });
        app.UseRouting();
        if (auth)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        return app;
    }

    private static async Task<WebApplication> StartAsync(Func<WebApplication, IEndpointConventionBuilder> map, bool auth = false, TimeSpan? longWaitAfter = null)
    {
        var app = Build(auth, longWaitAfter);
        map(app);
        await app.StartAsync();
        return app;
    }

    private static Task<HttpResponseMessage> SendAsync(WebApplication app, string path, string remote = "127.0.0.1", string? role = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Remote", remote);
        if (role is not null)
        {
            request.Headers.Add("X-Role", role);
        }

        configure?.Invoke(request);
        return app.GetTestClient().SendAsync(request);
    }

    private sealed class RoleHeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue("X-Role", out var role))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "tester"), new Claim(ClaimTypes.Role, role!)], "Test");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), "Test")));
        }
    }
}
