using Coordination.Aspects.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Coordination.Aspects.Tests.Generator;

public sealed class IncrementalityTests
{
    [Fact]
    public void UnrelatedEdit_ReusesTheGeneratedOutput()
    {
        var parse = GeneratorHarness.ParseOptions();
        var source = CSharpSyntaxTree.ParseText("""
            using System.Threading.Tasks;
            using Coordination;
            namespace App;
            public class Jobs
            {
                [Singleton("jobs:{id}")]
                public Task RunAsync(int id) => Task.CompletedTask;
                public Task Go() => RunAsync(1);
            }
            """, parse, path: "/src/Jobs.cs");
        var compilation = CSharpCompilation.Create(
            "Consumer",
            [source],
            GeneratorHarness.ReferencesForTests,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new SingletonGenerator().AsSourceGenerator()],
            parseOptions: parse,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace App; public class Unrelated { public int X() => 1; }", parse, path: "/src/Other.cs"));
        driver = driver.RunGenerators(edited);

        var outputs = driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(run => run.Outputs);
        Assert.All(outputs, output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }
}
