using System.Collections.Immutable;
using Coordination.Aspects.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Coordination.Aspects.Tests.Generator;

/// <summary>Compiles source strings in memory with the [Singleton] generator and analyzer, like a consuming project would.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [
            .. trusted.Select(p => MetadataReference.CreateFromFile(p)),
            MetadataReference.CreateFromFile(typeof(Coordination.Locks.IDistributedLockProvider).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(SingletonAttribute).Assembly.Location),
        ];
    });

    public static ImmutableArray<MetadataReference> ReferencesForTests => References.Value;

    public static CSharpParseOptions ParseOptions(bool interceptorsEnabled = true) =>
        CSharpParseOptions.Default
            .WithLanguageVersion(LanguageVersion.Preview)
            .WithFeatures(interceptorsEnabled ? [new("InterceptorsNamespaces", SingletonGenerator.GeneratedNamespace)] : []);

    /// <summary>Runs the generator on <paramref name="sources"/> and the analyzer on the result.</summary>
    public static Task<Result> RunAsync(bool interceptorsEnabled = true, params string[] sources) =>
        RunAsync(interceptorsEnabled, [], sources);

    /// <summary>Runs the generator on <paramref name="sources"/> compiled against <paramref name="extraReferences"/> too.</summary>
    public static async Task<Result> RunAsync(bool interceptorsEnabled, MetadataReference[] extraReferences, params string[] sources) =>
        await RunAsync(interceptorsEnabled, extraReferences, NullableContextOptions.Enable, sources);

    /// <summary>Runs the generator in a compilation with the given nullable context.</summary>
    public static async Task<Result> RunAsync(bool interceptorsEnabled, MetadataReference[] extraReferences, NullableContextOptions nullable, params string[] sources)
    {
        var parse = ParseOptions(interceptorsEnabled);
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, parse, path: $"/src/File{i}.cs")).ToArray();
        var compilation = CSharpCompilation.Create(
            "Consumer",
            [
                CSharpSyntaxTree.ParseText("global using System; global using System.Threading; global using System.Threading.Tasks; global using Coordination;", parse, path: "/src/Usings.cs"),
                .. trees,
            ],
            [.. References.Value, .. extraReferences],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: nullable));

        GeneratorDriver driver = CSharpGeneratorDriver.Create([new SingletonGenerator().AsSourceGenerator()], parseOptions: parse);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var analyzerDiagnostics = await output
            .WithAnalyzers([new SingletonAnalyzer()])
            .GetAnalyzerDiagnosticsAsync();
        var generated = driver.GetRunResult().GeneratedTrees.Select(t => t.ToString()).SingleOrDefault();
        return new Result(
            output,
            generated,
            [.. generatorDiagnostics, .. output.GetDiagnostics()],
            analyzerDiagnostics);
    }

    public static Task<Result> RunAsync(params string[] sources) => RunAsync(true, sources);

    /// <summary>Compiles <paramref name="source"/> into a library (without the generator) and returns a reference to it.</summary>
    public static MetadataReference CompileLibrary(string name, string source)
    {
        var parse = ParseOptions();
        var library = CSharpCompilation.Create(
            name,
            [
                CSharpSyntaxTree.ParseText("global using System; global using System.Threading; global using System.Threading.Tasks; global using Coordination;", parse),
                CSharpSyntaxTree.ParseText(source, parse),
            ],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emit = library.Emit(image);
        if (!emit.Success)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, emit.Diagnostics));
        }

        return MetadataReference.CreateFromImage(image.ToArray());
    }

    /// <param name="Output">The compilation with the generated code.</param>
    /// <param name="Generated">The generated interceptors, or null when nothing was generated.</param>
    /// <param name="CompilerDiagnostics">Compiler and generator diagnostics (warnings included).</param>
    /// <param name="AnalyzerDiagnostics">The [Singleton] analyzer's diagnostics.</param>
    internal sealed record Result(
        Compilation Output,
        string? Generated,
        ImmutableArray<Diagnostic> CompilerDiagnostics,
        ImmutableArray<Diagnostic> AnalyzerDiagnostics)
    {
        public IEnumerable<Diagnostic> Errors =>
            CompilerDiagnostics.Concat(AnalyzerDiagnostics).Where(d => d.Severity >= DiagnosticSeverity.Warning);

        /// <summary>The source text a diagnostic points at.</summary>
        public static string Spanned(Diagnostic d) => d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length);
    }
}
