using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Coordination.Aspects.Generator;

/// <summary>One call site to intercept: the interceptor method (without its name and location attributes) and where it applies.</summary>
internal sealed record CallSite(string Interceptor, int Version, string Data, string DisplayLocation);

/// <summary>Decides which calls of <c>[Singleton]</c> methods can be intercepted and writes their interceptors.</summary>
internal static class SingletonCallSites
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>
    /// True for a call inside a lambda converted to an expression tree: it only describes a call (Hangfire's
    /// <c>Enqueue(() => job.RunAsync())</c>), whoever runs it later invokes the method by reflection, so it is neither
    /// rewritten nor warned about.
    /// </summary>
    public static bool IsQuoted(IInvocationOperation invocation)
    {
        var model = invocation.SemanticModel;
        foreach (var node in invocation.Syntax.Ancestors())
        {
            if (node is AnonymousFunctionExpressionSyntax lambda
                && model?.GetTypeInfo(lambda).ConvertedType is INamedTypeSymbol { Name: "Expression", IsGenericType: true } type
                && type.ContainingNamespace.ToDisplayString() == "System.Linq.Expressions")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Why a call of a marked method cannot be intercepted, or null when it can.</summary>
    public static string? WhyNotInterceptable(IInvocationOperation invocation, Compilation compilation)
    {
        var method = invocation.TargetMethod;
        if (invocation.Instance?.Syntax is BaseExpressionSyntax)
        {
            return "a base call cannot be redirected without losing its non-virtual dispatch";
        }

        if (!SymbolEqualityComparer.Default.Equals(method.ContainingAssembly, compilation.Assembly))
        {
            var attribute = SingletonMethodAnalysis.FindAttribute(method.OriginalDefinition);
            if (attribute is not null && !SingletonMethodAnalysis.Analyze(method.OriginalDefinition, attribute, compilation, CancellationToken.None).IsValid)
            {
                return "its [Singleton] declaration is not supported (build its assembly with the generator to see why)";
            }
        }

        return null;
    }

    /// <summary>Builds the call site for <paramref name="context"/>'s invocation, or null when it is not a guarded call.</summary>
    public static CallSite? Build(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        var syntax = (InvocationExpressionSyntax)context.Node;

        // Cheap filter first: most invocations do not target a marked method.
        if (context.SemanticModel.GetSymbolInfo(syntax, cancellationToken).Symbol is not IMethodSymbol bound
            || SingletonMethodAnalysis.FindAttribute((bound.ReducedFrom ?? bound).OriginalDefinition) is not { } attribute
            || context.SemanticModel.GetOperation(syntax, cancellationToken) is not IInvocationOperation invocation)
        {
            return null;
        }

        var method = invocation.TargetMethod;
        var compilation = context.SemanticModel.Compilation;
        if (IsQuoted(invocation) || WhyNotInterceptable(invocation, compilation) is not null)
        {
            return null;
        }

        var plan = SingletonMethodAnalysis.Analyze(method.OriginalDefinition, attribute, compilation, cancellationToken);
        if (!plan.IsValid)
        {
            return null;
        }

        var location = context.SemanticModel.GetInterceptableLocation(syntax, cancellationToken);
        if (location is null)
        {
            return null;
        }

        // The comment names the file without its directory, so generated text does not depend on where the repository lives.
        var position = syntax.GetLocation().GetLineSpan();
        var display = System.IO.Path.GetFileName(position.Path) + "(" + (position.StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture)
            + "," + (position.StartLinePosition.Character + 1).ToString(CultureInfo.InvariantCulture) + ")";
        return new CallSite(WriteInterceptor(method, plan), location.Version, location.Data, display);
    }

    /// <summary>
    /// Writes the interceptor for calls to <paramref name="called"/>, with <see cref="SingletonGenerator.NameMarker"/> for its name. The call's
    /// arguments are already bound (defaults filled, params packed), so the interceptor mirrors the parameter list of the
    /// declaration. Generic methods and methods of generic types get a generic interceptor whose type parameters are those
    /// of the containing types (outermost first) then the method's; the compiler substitutes each call's type arguments.
    /// </summary>
    private static string WriteInterceptor(IMethodSymbol called, MethodPlan plan)
    {
        var method = called.OriginalDefinition;
        var typeParameters = SingletonMethodAnalysis.ContainingTypeParameters(method).Concat(method.TypeParameters).ToList();
        var type = method.ContainingType.ToDisplayString(TypeFormat);
        var parameters = new StringBuilder();
        if (!method.IsStatic)
        {
            parameters.Append("this ").Append(type).Append(" __receiver");
        }

        foreach (var p in method.Parameters)
        {
            if (parameters.Length > 0)
            {
                parameters.Append(", ");
            }

            if (p.Ordinal == 0 && method.IsExtensionMethod)
            {
                // Calls in reduced form (receiver.Method()) need the interceptor to be an extension method too.
                parameters.Append("this ");
            }

            parameters.Append(p.Type.ToDisplayString(TypeFormat)).Append(" @").Append(p.Name);
        }

        var arguments = string.Join(", ", method.Parameters.Select(p =>
            p.Name == plan.CancellationParameter ? "__singletonScope!.Link(@" + p.Name + ")" : "@" + p.Name));
        var typeArguments = method.IsGenericMethod
            ? "<" + string.Join(", ", method.TypeArguments.Select(t => t.ToDisplayString(TypeFormat))) + ">"
            : string.Empty;
        var target = plan.UseUnsafeAccessor
            ? SingletonGenerator.NameMarker + "_Call(" + (method.IsStatic ? "default!" : "__receiver") + (arguments.Length > 0 ? ", " : string.Empty) + arguments + ")"
            : (method.IsStatic ? type : "__receiver") + ".@" + method.Name + typeArguments + "(" + arguments + ")";
        var hasResult = plan.ReturnKind is ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT;
        var token = plan.CancellationParameter is null ? "default" : "@" + plan.CancellationParameter;
        var contention = plan.Skip ? "global::Coordination.LockContention.Skip" : "global::Coordination.LockContention.Fail";
        var display = SymbolDisplay.FormatLiteral(SingletonMethodAnalysis.DisplayName(method), quote: true);

        var code = new StringBuilder();
        code.Append("        internal static async ").Append(method.ReturnType.ToDisplayString(TypeFormat)).Append(' ').Append(SingletonGenerator.NameMarker);
        if (typeParameters.Count > 0)
        {
            code.Append('<').Append(string.Join(", ", typeParameters.Select(t => "@" + t.Name))).Append('>');
        }

        code.Append('(').Append(parameters).AppendLine(")");
        foreach (var constraint in typeParameters.Select(Constraints).Where(c => c is not null))
        {
            code.Append("            ").AppendLine(constraint);
        }

        code.AppendLine("        {");
        if (plan.KeyPrelude.Length > 0)
        {
            code.Append("            ").AppendLine(plan.KeyPrelude);
        }

        // The acquisition is awaited without ConfigureAwait(false) on purpose: the original method then starts on the caller's
        // synchronization context, exactly as an unintercepted call would.
        code
            .Append("            string __singletonKey = ").Append(plan.KeyExpression).AppendLine(";")
            .Append("            global::Coordination.Aspects.SingletonScope? __singletonScope = await global::Coordination.Aspects.SingletonRuntime.EnterAsync(__singletonKey, global::System.TimeSpan.FromTicks(")
            .Append(plan.TimeoutTicks.ToString(CultureInfo.InvariantCulture)).Append("L), ").Append(contention).Append(", ").Append(display).Append(", ");
        if (plan.MaxConcurrency != 1 || plan.Access != 0)
        {
            // Permits or read/write: the overload that takes them (the plain lock keeps the shorter call).
            code.Append(plan.MaxConcurrency.ToString(CultureInfo.InvariantCulture)).Append(", (global::Coordination.LockAccess)")
                .Append(plan.Access.ToString(CultureInfo.InvariantCulture)).Append(", ");
        }

        code.Append(token).AppendLine(");");
        if (plan.Skip)
        {
            code.AppendLine("            if (__singletonScope is null)")
                .AppendLine("            {")
                .AppendLine(hasResult ? "                return default!;" : "                return;")
                .AppendLine("            }")
                .AppendLine();
        }

        code.AppendLine("            try")
            .AppendLine("            {")
            .Append("                ").Append(hasResult ? "return " : string.Empty).Append("await ").Append(target).AppendLine(".ConfigureAwait(false);")
            .AppendLine("            }")
            .AppendLine("            finally")
            .AppendLine("            {")
            .AppendLine("                await __singletonScope!.DisposeAsync().ConfigureAwait(false);")
            .AppendLine("            }")
            .AppendLine("        }");
        if (plan.UseUnsafeAccessor)
        {
            // The method is private or protected: call it through an accessor the runtime binds without access checks. It goes
            // after the interceptor, because the InterceptsLocation attributes written before this text belong to the interceptor.
            code.AppendLine().Append("        [global::System.Runtime.CompilerServices.UnsafeAccessor(global::System.Runtime.CompilerServices.UnsafeAccessorKind.")
                .Append(method.IsStatic ? "StaticMethod" : "Method").Append(", Name = ").Append(SymbolDisplay.FormatLiteral(method.Name, quote: true)).AppendLine(")]")
                .Append("        private static extern ").Append(method.ReturnType.ToDisplayString(TypeFormat)).Append(' ').Append(SingletonGenerator.NameMarker).Append("_Call(")
                .Append(type).Append(" __target");
            foreach (var p in method.Parameters)
            {
                code.Append(", ").Append(p.Type.ToDisplayString(TypeFormat)).Append(" @").Append(p.Name);
            }

            code.AppendLine(");");
        }

        return code.ToString();
    }

    private static string? Constraints(ITypeParameterSymbol parameter)
    {
        var clauses = new System.Collections.Generic.List<string>();
        if (parameter.HasReferenceTypeConstraint)
        {
            clauses.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        }
        else if (parameter.HasUnmanagedTypeConstraint)
        {
            clauses.Add("unmanaged");
        }
        else if (parameter.HasValueTypeConstraint)
        {
            clauses.Add("struct");
        }
        else if (parameter.HasNotNullConstraint)
        {
            clauses.Add("notnull");
        }

        clauses.AddRange(parameter.ConstraintTypes.Select(t => t.ToDisplayString(TypeFormat)));
        if (parameter.HasConstructorConstraint && !parameter.HasValueTypeConstraint)
        {
            clauses.Add("new()");
        }

        return clauses.Count == 0 ? null : "where @" + parameter.Name + " : " + string.Join(", ", clauses);
    }
}
