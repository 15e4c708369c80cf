using System.Text.RegularExpressions;
using Coordination.Keys;
using Xunit;
using static Coordination.Aspects.Tests.Generator.GeneratorHarness;

namespace Coordination.Aspects.Tests.Keys;

/// <summary>
/// The generator compiles the runtime key engine as linked source; these theories prove the two agree on every
/// template and timeout case: what one accepts the other accepts, and a rejection says the same thing.
/// </summary>
public sealed class KeyEngineAgreementTests
{
    public static TheoryData<string> Templates => new()
    {
        "orders",
        "orders:{id}",
        "orders:{ id }",
        "orders:{order.Id}",
        "orders:{order.Customer.Name}:{id}",
        "{id}{order.Id}",
        "a{{b}}:{id}",
        "x}}",
        "{{",
        "orders:{id",
        "orders:id}",
        "x}",
        "orders:{}",
        "orders:{ }",
        "orders:{:id}",
        "orders:{order..Id}",
        "orders:{order.}",
        "orders:{a{b}",
        "   ",
    };

    public static TheoryData<string> Timeouts => new()
    {
        "0",
        "00:00:05",
        "00:00:00.250",
        "1.00:00:00",
        "Infinite",
        "infinite",
        "-00:00:00.001",
        "soon",
        "-00:00:01",
        "-1",
        "",
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public async Task Template_IsAcceptedOrRejectedAlikeByTheRuntimeAndTheGenerator(string template)
    {
        ArgumentException? runtimeError = null;
        KeyTemplate? parsed = null;
        try
        {
            parsed = KeyTemplate.Parse(template);
        }
        catch (ArgumentException ex)
        {
            runtimeError = ex;
        }

        var result = await RunAsync($$"""
            namespace App;
            public sealed record Customer(string Name);
            public sealed record Order(int Id, Customer Customer);
            public class Orders
            {
                [Singleton({{Literal(template)}})]
                public Task PayAsync(int id, Order order) => Task.CompletedTask;
                public Task CallAsync() => PayAsync(1, new Order(2, new Customer("c")));
            }
            """);

        var templateError = result.AnalyzerDiagnostics.SingleOrDefault(d => d.Id == "CSG006");
        if (runtimeError is null)
        {
            Assert.Empty(result.Errors);
            var emitted = Regex.Matches(result.Generated!, @"SingletonRuntime\.KeyPart\(").Count;
            Assert.Equal(parsed!.Placeholders.Count, emitted);
        }
        else
        {
            Assert.NotNull(templateError);
            var reason = runtimeError.Message[$"Lock key template '{template}' ".Length..runtimeError.Message.IndexOf(" (Parameter", StringComparison.Ordinal)].TrimEnd('.');
            Assert.EndsWith("is invalid: it " + reason, templateError.GetMessage(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Timeouts))]
    public async Task Timeout_IsAcceptedOrRejectedAlikeByTheRuntimeAndTheGenerator(string timeout)
    {
        var attribute = new SingletonAttribute("k") { Timeout = timeout };
        var runtimeAccepts = Record.Exception(() => attribute.WaitTimeout) is null;

        var result = await RunAsync($$"""
            namespace App;
            public class Jobs
            {
                [Singleton("k", Timeout = {{Literal(timeout)}})]
                public Task RunAsync() => Task.CompletedTask;
            }
            """);

        Assert.Equal(runtimeAccepts, !result.AnalyzerDiagnostics.Any(d => d.Id == "CSG003"));
    }

    private static string Literal(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
