using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Coordination.Aspects.Generator;

/// <summary>
/// Reports problems with <c>[Singleton]</c> declarations (CSG001-CSG004, CSG006, CSG007, CSG010) and calls the generator
/// cannot guard (CSG005: method-group conversions, <c>base.</c> calls, calls the generated code cannot make).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SingletonAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        SingletonDiagnostics.UnknownPlaceholder,
        SingletonDiagnostics.UnsupportedReturnType,
        SingletonDiagnostics.InvalidTimeout,
        SingletonDiagnostics.SkipNeedsDefaultableResult,
        SingletonDiagnostics.UnguardedCall,
        SingletonDiagnostics.InvalidKeyTemplate,
        SingletonDiagnostics.UnsupportedMethod,
        SingletonDiagnostics.UnguardedThroughBase,
        SingletonDiagnostics.SelfCall,
        SingletonDiagnostics.InvalidConcurrency);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (start.Compilation.GetTypeByMetadataName(SingletonMethodAnalysis.SingletonMetadataName) is null
                && start.Compilation.GetTypeByMetadataName(SingletonMethodAnalysis.DistributedLockMetadataName) is null)
            {
                return;
            }

            start.RegisterSymbolAction(c => AnalyzeMethod((IMethodSymbol)c.Symbol, c.Compilation, c.ReportDiagnostic, c.CancellationToken), SymbolKind.Method);
            // Local functions and lambdas are not symbols the symbol action visits.
            start.RegisterOperationAction(
                c => AnalyzeMethod(c.Operation switch
                {
                    ILocalFunctionOperation f => f.Symbol,
                    IAnonymousFunctionOperation f => f.Symbol,
                    _ => null,
                }, c.Compilation, c.ReportDiagnostic, c.CancellationToken),
                OperationKind.LocalFunction,
                OperationKind.AnonymousFunction);
            start.RegisterOperationAction(AnalyzeMethodReference, OperationKind.MethodReference);
            start.RegisterOperationAction(AnalyzeInvocation, OperationKind.Invocation);
        });
    }

    private static void AnalyzeMethod(IMethodSymbol? method, Compilation compilation, System.Action<Diagnostic> report, System.Threading.CancellationToken cancellationToken)
    {
        if (method is null || SingletonMethodAnalysis.FindAttribute(method) is not { } attribute)
        {
            return;
        }

        foreach (var diagnostic in SingletonMethodAnalysis.Analyze(method, attribute, compilation, cancellationToken).Diagnostics)
        {
            report(diagnostic);
        }

        foreach (var unmarked in UnmarkedBaseMethods(method))
        {
            report(Diagnostic.Create(
                SingletonDiagnostics.UnguardedThroughBase,
                attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken).GetLocation() ?? method.Locations[0],
                SingletonMethodAnalysis.DisplayName(method),
                method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat),
                SingletonMethodAnalysis.DisplayName(unmarked)));
        }
    }

    /// <summary>Overridden and implemented interface methods without [Singleton]: calls bound to them are not rewritten.</summary>
    private static System.Collections.Generic.IEnumerable<IMethodSymbol> UnmarkedBaseMethods(IMethodSymbol method)
    {
        if (method.MethodKind != MethodKind.Ordinary || method.IsStatic)
        {
            yield break;
        }

        for (var overridden = method.OverriddenMethod; overridden is not null; overridden = overridden.OverriddenMethod)
        {
            if (SingletonMethodAnalysis.FindAttribute(overridden.OriginalDefinition) is null)
            {
                yield return overridden;
                break;
            }
        }

        foreach (var contract in method.ContainingType.AllInterfaces)
        {
            foreach (var member in contract.GetMembers(method.Name))
            {
                if (member is IMethodSymbol candidate
                    && SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(candidate), method)
                    && SingletonMethodAnalysis.FindAttribute(candidate.OriginalDefinition) is null)
                {
                    yield return candidate;
                }
            }
        }
    }

    private static void AnalyzeMethodReference(OperationAnalysisContext context)
    {
        var reference = (IMethodReferenceOperation)context.Operation;
        if (SingletonMethodAnalysis.FindAttribute(reference.Method.OriginalDefinition) is null)
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            SingletonDiagnostics.UnguardedCall,
            reference.Syntax.GetLocation(),
            "method-group conversion",
            SingletonMethodAnalysis.DisplayName(reference.Method),
            "calls through a delegate are not rewritten; call the method directly inside a lambda instead"));
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (SingletonMethodAnalysis.FindAttribute(method.OriginalDefinition) is null)
        {
            return;
        }

        if (SingletonCallSites.IsQuoted(invocation))
        {
            return;
        }

        var reason = SingletonCallSites.WhyNotInterceptable(invocation, context.Compilation);
        if (reason is null && SymbolEqualityComparer.Default.Equals(context.ContainingSymbol, method.OriginalDefinition))
        {
            context.ReportDiagnostic(Diagnostic.Create(SingletonDiagnostics.SelfCall, invocation.Syntax.GetLocation(), SingletonMethodAnalysis.DisplayName(method)));
        }

        if (reason is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                SingletonDiagnostics.UnguardedCall,
                invocation.Syntax.GetLocation(),
                "call",
                SingletonMethodAnalysis.DisplayName(method),
                reason));
        }
    }
}
