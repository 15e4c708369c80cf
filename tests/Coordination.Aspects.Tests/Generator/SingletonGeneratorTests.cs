using Microsoft.CodeAnalysis;
using Xunit;
using static Coordination.Aspects.Tests.Generator.GeneratorHarness;

namespace Coordination.Aspects.Tests.Generator;

public sealed class SingletonGeneratorTests
{
    private const string EveryShape = """
        namespace App;
        public sealed record Order(int Id, string? Region);
        public class Reports
        {
            [Singleton("task:{tenantId}")]
            public Task RunAsync(string tenantId, CancellationToken ct) => Task.CompletedTask;

            [Singleton("task-t:{order.Id}:{order.Region}", Timeout = "00:00:05")]
            public Task<int> CountAsync(Order order) => Task.FromResult(order.Id);

            [Singleton("vt:{n}", Timeout = "0", OnContention = LockContention.Skip)]
            public static ValueTask TouchAsync(int n) => default;

            [Singleton("vt-t:{n}", OnContention = LockContention.Skip)]
            public ValueTask<string?> NameAsync(int? n) => new((string?)null);

            [Singleton("generic:{value}")]
            public Task<T> EchoAsync<T>(T value) => Task.FromResult(value);
        }
        public static class ReportExtensions
        {
            [Singleton("ext:{id}")]
            public static Task<int> ExtAsync(this Reports reports, int id, params string[] tags) => Task.FromResult(id + tags.Length);
        }
        public sealed class Caller
        {
            public async Task<int> CallAllAsync(Reports reports, CancellationToken ct)
            {
                await reports.RunAsync("t1", ct);
                var count = await reports.CountAsync(new Order(7, null));
                await Reports.TouchAsync(1);
                _ = await reports.NameAsync(null);
                _ = await reports.EchoAsync("x");
                _ = await reports.EchoAsync(42);
                return count + await reports.ExtAsync(3, "a", "b") + await ReportExtensions.ExtAsync(reports, 4);
            }

            public Task<T> OpenGenericAsync<T>(Reports reports, T value) => reports.EchoAsync(value);
        }
        """;

    [Fact]
    public async Task Generate_ForEverySupportedShape_CompilesWithoutAnyWarning()
    {
        var result = await RunAsync(EveryShape);

        Assert.Empty(result.Errors);
        Assert.NotNull(result.Generated);
        // Every call site in Caller gets an InterceptsLocation: 9 calls.
        Assert.Equal(9, CountOf(result.Generated, "InterceptsLocation(1, "));
        Assert.Contains("file sealed class InterceptsLocationAttribute", result.Generated, StringComparison.Ordinal);
        Assert.Contains("namespace Coordination.Generated", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_CallsOfOneMethod_ShareOneInterceptor()
    {
        var result = await RunAsync(EveryShape);

        // EchoAsync<string>, EchoAsync<int> and the open EchoAsync<T> share one generic interceptor; ExtAsync's two call forms share one.
        Assert.Equal(6, CountOf(result.Generated!, "internal static async "));
        Assert.Contains("Intercept4<@T>(this global::App.Reports __receiver, T @value)", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_KeyTemplate_ReadsParametersAndMemberPathsInvariantly()
    {
        var result = await RunAsync(EveryShape);

        Assert.Contains("\"task:\" + global::Coordination.Aspects.SingletonRuntime.KeyPart(@tenantId, \"task:{tenantId}\", 0)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("KeyPart(__singletonKeyArg0?.@Id, \"task-t:{order.Id}:{order.Region}\", 0)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("KeyPart(__singletonKeyArg1?.@Region, \"task-t:{order.Id}:{order.Region}\", 1)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("global::System.TimeSpan.FromTicks(50000000L)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("__singletonScope!.Link(@ct)", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_WithoutInterceptorsNamespace_FailsWithCS9137()
    {
        var result = await RunAsync(interceptorsEnabled: false, EveryShape);

        Assert.Contains(result.CompilerDiagnostics, d => d.Id == "CS9137");
    }

    [Fact]
    public async Task Generate_CallThroughDelegate_IsNotInterceptedAndWarnsCSG005()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                [Singleton("nightly")]
                public Task RunAsync() => Task.CompletedTask;
            }
            public static class Caller
            {
                public static Task Go(Jobs jobs)
                {
                    Func<Task> run = jobs.RunAsync;
                    return run();
                }
            }
            """);

        Assert.Null(result.Generated);
        var warning = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG005", warning.Id);
        Assert.Equal(DiagnosticSeverity.Warning, warning.Severity);
        Assert.Equal("jobs.RunAsync", Result.Spanned(warning));
    }

    [Fact]
    public async Task Generate_BaseCall_IsNotInterceptedAndWarnsCSG005()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                [Singleton("nightly")]
                public virtual Task RunAsync() => Task.CompletedTask;
            }
            public class Derived : Jobs
            {
                public override Task RunAsync() => base.RunAsync();
            }
            """);

        Assert.Null(result.Generated);
        var warning = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG005", warning.Id);
        Assert.Contains("base call", warning.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Placeholder_NamingNoParameter_ReportsCSG001AtThePlaceholder()
    {
        var result = await RunAsync("""
            namespace App;
            public class Reports
            {
                [Singleton("reports:{tenant}")]
                public Task RunAsync(string tenantId) => Task.CompletedTask;
                public Task Go() => RunAsync("x");
            }
            """);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG001", error.Id);
        Assert.Equal(DiagnosticSeverity.Error, error.Severity);
        Assert.Equal("{tenant}", Result.Spanned(error));
        Assert.Contains("tenantId", error.GetMessage(), StringComparison.Ordinal);
        Assert.Null(result.Generated);
    }

    [Fact]
    public async Task Placeholder_NamingMissingMember_ReportsCSG001()
    {
        var result = await RunAsync("""
            namespace App;
            public sealed record Order(int Id);
            public class Orders
            {
                [Singleton("orders:{order.Number}")]
                public Task PayAsync(Order order) => Task.CompletedTask;
            }
            """);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG001", error.Id);
        Assert.Equal("{order.Number}", Result.Spanned(error));
        Assert.Contains("'Number'", error.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public int Run(int id) => id;", "int")]
    [InlineData("public void Run(int id) { }", "void")]
    [InlineData("public async void Run(int id) => await Task.Yield();", "async void")]
    [InlineData("public IAsyncEnumerable<int> Run(int id) => throw new NotSupportedException();", "IAsyncEnumerable")]
    public async Task SynchronousMethod_ReportsCSG002ExplainingSyncOverAsync(string declaration, string shown)
    {
        var result = await RunAsync($$"""
            using System.Collections.Generic;
            namespace App;
            public class Jobs
            {
                [Singleton("jobs:{id}")]
                {{declaration}}
                public void Go() => Run(1);
            }
            """);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG002", error.Id);
        Assert.Contains(shown, error.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("sync-over-async", error.GetMessage(), StringComparison.Ordinal);
        Assert.StartsWith("Singleton(", Result.Spanned(error), StringComparison.Ordinal);
        Assert.Null(result.Generated);
    }

    [Theory]
    [InlineData("Timeout = \"soon\"", "Timeout = \"soon\"")]
    [InlineData("Timeout = \"-00:00:01\"", "Timeout = \"-00:00:01\"")]
    [InlineData("Timeout = \"-1\"", "Timeout = \"-1\"")]
    public async Task InvalidTimeout_ReportsCSG003AtTheArgument(string arguments, string spanned) =>
        await AssertOptionDiagnosticAsync(arguments, "CSG003", spanned);

    [Theory]
    [InlineData("MaxConcurrency = 0", "MaxConcurrency = 0")]
    [InlineData("MaxConcurrency = 3, Access = LockAccess.Write", "MaxConcurrency = 3")]
    [InlineData("Access = (LockAccess)7", "Access = (LockAccess)7")]
    public async Task InvalidPermitsOrAccess_ReportsCSG010AtTheArgument(string arguments, string spanned) =>
        await AssertOptionDiagnosticAsync(arguments, "CSG010", spanned);

    /// <summary>One [Singleton("jobs", arguments)] method: exactly one diagnostic <paramref name="id"/>, spanning <paramref name="spanned"/>.</summary>
    private static async Task AssertOptionDiagnosticAsync(string arguments, string id, string spanned)
    {
        var result = await RunAsync($$"""
            namespace App;
            public class Jobs
            {
                [Singleton("jobs", {{arguments}})]
                public Task RunAsync() => Task.CompletedTask;
            }
            """);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal(id, error.Id);
        Assert.Equal(spanned, Result.Spanned(error));
    }

    [Theory]
    [InlineData("Task<string>", true)]
    [InlineData("ValueTask<T>", true)]
    [InlineData("Task<string?>", false)]
    [InlineData("ValueTask<int>", false)]
    [InlineData("Task", false)]
    public async Task Skip_OnResultThatCannotBeDefault_ReportsCSG004(string returnType, bool reported)
    {
        var result = await RunAsync($$"""
            namespace App;
            public class Jobs
            {
                [Singleton("jobs", OnContention = LockContention.Skip)]
                public {{returnType}} RunAsync<T>() => throw new NotSupportedException();
            }
            """);

        Assert.Equal(reported, result.AnalyzerDiagnostics.Any(d => d.Id == "CSG004"));
        Assert.Equal(reported ? 1 : 0, result.Errors.Count());
    }

    [Theory]
    [InlineData("orders:{id", "{id")]
    [InlineData("orders:id}", "}")]
    [InlineData("orders:{}", "{}")]
    [InlineData("orders:{query:id}", "{query:id}")]
    public async Task MalformedTemplate_ReportsCSG006AtTheProblem(string template, string spanned)
    {
        var result = await RunAsync($$"""
            namespace App;
            public class Orders
            {
                [Singleton("{{template}}")]
                public Task PayAsync(int id) => Task.CompletedTask;
            }
            """);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG006", error.Id);
        Assert.Equal(spanned, Result.Spanned(error));
    }

    [Theory]
    [InlineData("public class Outer { private class Jobs { [Singleton(\"k\")] private Task RunAsync() => Task.CompletedTask; } }", "containing type is private")]
    [InlineData("public class Jobs { [Singleton(\"k\")] private Task RunAsync<T>() => Task.CompletedTask; }", "generic")]
    [InlineData("public class Jobs { [Singleton(\"k\")] public Task RunAsync(ref int x) => Task.CompletedTask; }", "by reference")]
    [InlineData("public struct Jobs { [Singleton(\"k\")] public Task RunAsync() => Task.CompletedTask; }", "structs")]
    [InlineData("public class Jobs { public void M() { [Singleton(\"k\")] static Task Local() => Task.CompletedTask; _ = Local(); } }", "local functions")]
    public async Task UnsupportedMethodShape_ReportsCSG007(string declaration, string reason)
    {
        var result = await RunAsync("namespace App;\n" + declaration);

        var error = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG007", error.Id);
        Assert.Contains(reason, error.GetMessage(), StringComparison.Ordinal);
        Assert.Null(result.Generated);
    }

    [Fact]
    public async Task SingletonOnMinimalApiLambda_IsLeftToTheEndpointIntegration_WithoutAnyDiagnostic()
    {
        var result = await RunAsync("""
            namespace App;
            public static class Endpoints
            {
                public static Delegate Handler() => [Singleton("orders:{id}", Timeout = "0")] (int id) => id.ToString();
                public static Delegate Lock() => [DistributedLock("orders:{id}")] (int id) => id;
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Null(result.Generated);
    }

    [Fact]
    public async Task DistributedLockOnMethod_GuardsCallsLikeSingleton_WithArgumentSourcePlaceholders()
    {
        var result = await RunAsync("""
            namespace App;
            public class Billing
            {
                [DistributedLock("billing:{arg:tenant}", Timeout = "00:00:01")]
                public Task RunAsync(string tenant) => Task.CompletedTask;
                public Task CallAsync() => RunAsync("t");
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Contains("KeyPart(@tenant, \"billing:{arg:tenant}\", 0)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("global::Coordination.LockContention.Fail", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_PrivateAndProtectedMethods_AreCalledThroughUnsafeAccessors()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                public Task RunAllAsync(CancellationToken ct) => Task.WhenAll(RunAsync(1, ct), CleanAsync());

                [Singleton("jobs:{id}")]
                private async Task<int> RunAsync(int id, CancellationToken ct)
                {
                    await Task.Delay(1, ct);
                    return id;
                }

                [Singleton("clean")]
                protected static Task CleanAsync() => Task.CompletedTask;
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Contains("UnsafeAccessorKind.Method, Name = \"RunAsync\")]", result.Generated, StringComparison.Ordinal);
        Assert.Contains("UnsafeAccessorKind.StaticMethod, Name = \"CleanAsync\")]", result.Generated, StringComparison.Ordinal);
        Assert.Contains("return await Intercept0_Call(__receiver, @id, __singletonScope!.Link(@ct))", result.Generated, StringComparison.Ordinal);
        Assert.Contains("await Intercept1_Call(default!)", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_CallsIntoMarkedMethodsOfAnotherAssembly_AreGuarded()
    {
        var library = CompileLibrary("Library", """
            namespace Lib;
            public sealed record Tenant(string Name);
            public class Billing
            {
                [Singleton("billing:{tenant.Name}", Timeout = "00:00:01")]
                public Task<int> RunAsync(Tenant tenant, CancellationToken ct) => Task.FromResult(1);
            }
            """);

        var result = await RunAsync(true, [library], """
            namespace App;
            public static class Caller
            {
                public static Task<int> Go(Lib.Billing billing) => billing.RunAsync(new Lib.Tenant("acme"), default);
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Contains("KeyPart(__singletonKeyArg0?.@Name, \"billing:{tenant.Name}\", 0)", result.Generated, StringComparison.Ordinal);
        Assert.Contains("FromTicks(10000000L)", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_InProjectWithNullableDisabled_CompilesWithoutAnyWarning()
    {
        var result = await RunAsync(true, [], NullableContextOptions.Disable, EveryShape.Replace("string?", "string", StringComparison.Ordinal));

        Assert.Empty(result.Errors);
        Assert.Equal(9, CountOf(result.Generated!, "InterceptsLocation(1, "));
    }

    [Fact]
    public async Task Generate_CallInsideExpressionTree_IsNeitherInterceptedNorWarned()
    {
        // How Hangfire enqueues jobs: the expression only describes the call; the job filter guards the real invocation.
        var result = await RunAsync("""
            using System.Linq.Expressions;
            namespace App;
            public class Jobs
            {
                [Singleton("nightly")]
                public Task RunAsync() => Task.CompletedTask;
                public static Expression<Func<Jobs, Task>> Quote() => jobs => jobs.RunAsync();
            }
            """);

        Assert.Null(result.Generated);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public async Task NameofOfMarkedMethod_DoesNotWarn()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                [Singleton("nightly")]
                public Task RunAsync() => Task.CompletedTask;
                public string Name => nameof(RunAsync);
            }
            """);

        Assert.Empty(result.Errors);
    }

    [Fact]
    public async Task MarkedMethodCallingItself_WarnsCSG009ButIsStillGuarded()
    {
        var result = await RunAsync("""
            namespace App;
            public class Tree
            {
                [Singleton("tree:{depth}")]
                public async Task WalkAsync(int depth)
                {
                    if (depth > 0)
                    {
                        await WalkAsync(depth - 1);
                    }
                }
            }
            """);

        var warning = Assert.Single(result.Errors);
        Assert.Equal("CSG009", warning.Id);
        Assert.Equal("WalkAsync(depth - 1)", Result.Spanned(warning));
        Assert.NotNull(result.Generated);
    }

    [Fact]
    public async Task Generate_CallsWithOptionalNamedAndParamsArguments_CompileWithoutAnyWarning()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                [Singleton("jobs:{tenant}:{attempt}")]
                public Task RunAsync(string tenant, int attempt = 1, CancellationToken ct = default, params int[] extra) => Task.CompletedTask;

                public async Task Go(CancellationToken ct)
                {
                    await RunAsync("a");
                    await RunAsync(attempt: 2, tenant: "b");
                    await RunAsync("c", 3, ct, 4, 5, 6);
                    await this.RunAsync(ct: ct, tenant: "d");
                }
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Equal(4, CountOf(result.Generated!, "InterceptsLocation(1, "));
    }

    [Fact]
    public async Task Generate_KeyWithEscapedBracesAndQuotes_CompilesToTheLiteral()
    {
        var result = await RunAsync("""
            namespace App;
            public class Jobs
            {
                [Singleton("a{{0}}\"b\":{id}")]
                public Task RunAsync(int id) => Task.CompletedTask;
                public Task Go() => RunAsync(1);
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Contains("\"a{0}\\\"b\\\":\" + global::Coordination.Aspects.SingletonRuntime.KeyPart(@id", result.Generated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MarkedImplementation_OfUnmarkedInterfaceMethod_WarnsCSG008()
    {
        var result = await RunAsync("""
            namespace App;
            public interface IReports { Task RunAsync(string tenant); }
            public class Reports : IReports
            {
                [Singleton("reports:{tenant}")]
                public Task RunAsync(string tenant) => Task.CompletedTask;
            }
            """);

        var warning = Assert.Single(result.AnalyzerDiagnostics);
        Assert.Equal("CSG008", warning.Id);
        Assert.Contains("IReports.RunAsync", warning.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MarkedInterfaceMethod_GuardsCallsThroughTheInterface()
    {
        var result = await RunAsync("""
            namespace App;
            public interface IReports
            {
                [Singleton("reports:{tenant}")]
                Task RunAsync(string tenant);
            }
            public class Reports : IReports
            {
                public Task RunAsync(string tenant) => Task.CompletedTask;
            }
            public static class Caller
            {
                public static Task Go(IReports reports) => reports.RunAsync("acme");
            }
            """);

        Assert.Empty(result.Errors);
        Assert.Contains("this global::App.IReports __receiver", result.Generated, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
