using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Coordination.Keys;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Coordination.Aspects.Generator;

/// <summary>Validates a <c>[Singleton]</c> method declaration and computes its <see cref="MethodPlan"/>.</summary>
internal static class SingletonMethodAnalysis
{
    /// <summary>The one lock contract's attributes in the core assembly; a generator can only know them by name.</summary>
    public const string SingletonMetadataName = "Coordination.SingletonAttribute";

    /// <inheritdoc cref="SingletonMetadataName"/>
    public const string DistributedLockMetadataName = "Coordination.DistributedLockAttribute";

    // Coordination.LockContention.Skip; the generator cannot reference the runtime enum.
    private const int SkipContention = 2;

    // The only placeholder source of call-argument keys, shared with Hangfire jobs: {arg:name} = {name}.
    private const string ArgumentSource = "arg";

    private static readonly long InfiniteTicks = TimeSpan.FromMilliseconds(-1).Ticks;

    /// <summary>
    /// The <c>[Singleton]</c> or <c>[DistributedLock]</c> attribute on <paramref name="method"/>, or null. Lambdas are left
    /// alone: an attribute on a minimal-API handler is endpoint metadata, which the ASP.NET Core integration honours.
    /// </summary>
    public static AttributeData? FindAttribute(IMethodSymbol method)
    {
        if (method.MethodKind == MethodKind.AnonymousFunction)
        {
            return null;
        }

        foreach (var attribute in method.GetAttributes())
        {
            var type = attribute.AttributeClass;
            if (type is { Name: "SingletonAttribute" or "DistributedLockAttribute", ContainingNamespace: { Name: "Coordination", ContainingNamespace.IsGlobalNamespace: true } })
            {
                return attribute;
            }
        }

        return null;
    }

    public static MethodPlan Analyze(IMethodSymbol method, AttributeData attribute, Compilation compilation, CancellationToken cancellationToken)
    {
        var plan = new MethodPlan();
        var display = DisplayName(method);
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
        var attributeLocation = attributeSyntax?.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;

        AnalyzeShape(method, compilation, display, attributeLocation, plan);
        AnalyzeReturn(method, compilation, display, attributeLocation, plan);
        AnalyzeOptions(method, attribute, attributeSyntax, display, attributeLocation, plan);
        AnalyzeKey(method, attribute, attributeSyntax, compilation, display, attributeLocation, plan);

        var ct = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        plan.CancellationParameter = method.Parameters
            .LastOrDefault(p => p.RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(p.Type, ct))
            ?.Name;
        return plan;
    }

    /// <summary>The type parameters of the types containing <paramref name="method"/>, outermost first.</summary>
    public static IEnumerable<ITypeParameterSymbol> ContainingTypeParameters(IMethodSymbol method)
    {
        var types = new List<INamedTypeSymbol>();
        for (var t = method.ContainingType; t is not null; t = t.ContainingType)
        {
            types.Insert(0, t);
        }

        return types.SelectMany(t => t.TypeParameters);
    }

    public static string DisplayName(IMethodSymbol method) =>
        method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat) + "." + method.Name;

    /// <summary>True when generated code in <paramref name="compilation"/> can name <paramref name="type"/>.</summary>
    public static bool IsTypeAccessible(ITypeSymbol type, Compilation compilation)
    {
        switch (type)
        {
            case ITypeParameterSymbol:
                return true;
            case IArrayTypeSymbol array:
                return IsTypeAccessible(array.ElementType, compilation);
            case INamedTypeSymbol named:
                if (!compilation.IsSymbolAccessibleWithin(named.OriginalDefinition, compilation.Assembly))
                {
                    return false;
                }

                return named.TypeArguments.All(t => IsTypeAccessible(t, compilation))
                    && (named.ContainingType is null || IsTypeAccessible(named.ContainingType, compilation));
            case IDynamicTypeSymbol:
                return true;
            default:
                return false;
        }
    }

    private static void AnalyzeShape(IMethodSymbol method, Compilation compilation, string display, Location location, MethodPlan plan)
    {
        string? problem = null;
        if (method.MethodKind is not MethodKind.Ordinary)
        {
            problem = "only ordinary methods can be marked (not local functions, accessors, operators or constructors)";
        }
        else if (!method.IsStatic && method.ContainingType.IsValueType)
        {
            problem = "instance methods of structs are not supported (the generated asynchronous wrapper cannot take the struct by reference); make the method static or the type a class";
        }
        else if (method.Parameters.FirstOrDefault(p => p.RefKind != RefKind.None) is { } byRef)
        {
            problem = $"parameter '{byRef.Name}' is passed by reference ({byRef.RefKind.ToString().ToLowerInvariant()}), which an asynchronous wrapper cannot forward";
        }
        else if (method.Parameters.FirstOrDefault(p => p.Type.IsRefLikeType || p.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer) is { } refLike)
        {
            problem = $"parameter '{refLike.Name}' has type '{refLike.Type.ToDisplayString()}', which an asynchronous wrapper cannot hold";
        }
        else if (method.TypeParameters.Concat(ContainingTypeParameters(method)).FirstOrDefault(t => t.AllowsRefLikeType) is { } refLikeParameter)
        {
            problem = $"type parameter '{refLikeParameter.Name}' allows ref structs, which an asynchronous wrapper cannot hold";
        }
        else if (!compilation.IsSymbolAccessibleWithin(method, compilation.Assembly))
        {
            // Private and protected methods are called through [UnsafeAccessor] (.NET 8+), which needs the containing type
            // to be nameable and usable as a parameter type, and (here) no generics.
            if (compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.UnsafeAccessorAttribute") is null)
            {
                problem = "it is private or protected, and this target framework has no UnsafeAccessorAttribute (.NET 8+) for generated code to call it through; make it internal or public";
            }
            else if (!IsTypeAccessible(method.ContainingType, compilation) || method.ContainingType.IsStatic)
            {
                problem = "it is private or protected and its containing type is private, protected or static, so generated code can neither call it directly nor through an UnsafeAccessor; make it internal or public";
            }
            else if (method.IsGenericMethod || ContainingTypeParameters(method).Any())
            {
                problem = "it is private or protected and generic (or in a generic type); generated code can only call such methods when they are internal or public";
            }
            else
            {
                plan.UseUnsafeAccessor = true;
            }
        }
        else if (method.Parameters.FirstOrDefault(p => !IsTypeAccessible(p.Type, compilation)) is { } hidden)
        {
            problem = $"the type of parameter '{hidden.Name}' is private or protected, so generated code cannot name it";
        }
        else if (!IsTypeAccessible(method.ReturnType, compilation) || (!method.IsStatic && !IsTypeAccessible(method.ContainingType, compilation)))
        {
            problem = "its return type or containing type is private or protected, so generated code cannot name it";
        }

        if (problem is not null)
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.UnsupportedMethod, location, display, problem));
        }
    }

    private static void AnalyzeReturn(IMethodSymbol method, Compilation compilation, string display, Location location, MethodPlan plan)
    {
        var returnType = method.ReturnType as INamedTypeSymbol;
        var definition = returnType?.OriginalDefinition;
        plan.ReturnKind =
            Is(definition, compilation, "System.Threading.Tasks.Task") ? ReturnKind.Task
            : Is(definition, compilation, "System.Threading.Tasks.Task`1") ? ReturnKind.TaskOfT
            : Is(definition, compilation, "System.Threading.Tasks.ValueTask") ? ReturnKind.ValueTask
            : Is(definition, compilation, "System.Threading.Tasks.ValueTask`1") ? ReturnKind.ValueTaskOfT
            : ReturnKind.Unsupported;
        if (plan.ReturnKind == ReturnKind.Unsupported)
        {
            var shown = method.ReturnsVoid && method.IsAsync ? "void (async void)" : method.ReturnType.ToDisplayString();
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.UnsupportedReturnType, location, display, shown));
        }
    }

    private static bool Is(INamedTypeSymbol? type, Compilation compilation, string metadataName) =>
        type is not null && SymbolEqualityComparer.Default.Equals(type, compilation.GetTypeByMetadataName(metadataName));

    private static void AnalyzeOptions(IMethodSymbol method, AttributeData attribute, AttributeSyntax? syntax, string display, Location location, MethodPlan plan)
    {
        string? timeoutText = null;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Timeout":
                    timeoutText = named.Value.Value as string;
                    break;
                case "OnContention" when named.Value.Value is int contention:
                    plan.Skip = contention == SkipContention;
                    break;
                case "MaxConcurrency" when named.Value.Value is int permits:
                    plan.MaxConcurrency = permits;
                    break;
                case "Access" when named.Value.Value is int access:
                    plan.Access = access;
                    break;
            }
        }

        if (plan.MaxConcurrency < 1)
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidConcurrency, At("MaxConcurrency"), display, $"MaxConcurrency {plan.MaxConcurrency} must be at least 1"));
        }
        else if (plan.Access is < 0 or > 2)
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidConcurrency, At("Access"), display, $"Access {plan.Access} is not a LockAccess value"));
        }
        else if (plan.Access != 0 && plan.MaxConcurrency != 1)
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidConcurrency, At("MaxConcurrency"), display, "a reader-writer lock (Access Read or Write) has no permit count"));
        }

        Location At(string name) =>
            syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == name)?.GetLocation() ?? location;

        // Unset: Skip tries once, everything else waits without a limit (the method host's default).
        plan.TimeoutTicks = plan.Skip ? 0 : InfiniteTicks;
        if (timeoutText is not null)
        {
            if (LockTimeout.TryParse(timeoutText, out var timeout, out var error))
            {
                plan.TimeoutTicks = timeout.Ticks;
            }
            else
            {
                plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidTimeout, At("Timeout"), display, $"'{timeoutText}' {error}"));
            }
        }

        if (plan.Skip && method.ReturnType is INamedTypeSymbol { TypeArguments.Length: 1 } generic
            && plan.ReturnKind is ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT)
        {
            var result = generic.TypeArguments[0];
            var defaultable = result.IsValueType
                || result.NullableAnnotation == NullableAnnotation.Annotated
                || (result.NullableAnnotation == NullableAnnotation.None && result is not ITypeParameterSymbol);
            if (!defaultable)
            {
                plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.SkipNeedsDefaultableResult, At("OnContention"), display, result.ToDisplayString()));
            }
        }
    }

    private static void AnalyzeKey(IMethodSymbol method, AttributeData attribute, AttributeSyntax? syntax, Compilation compilation, string display, Location location, MethodPlan plan)
    {
        var keyArgument = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals is null && a.NameColon is null)
            ?? syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameColon?.Name.Identifier.ValueText == "key");
        var keyLocation = keyArgument?.Expression.GetLocation() ?? location;
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not string template)
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidKeyTemplate, keyLocation, "(null)", display, "a key template is required"));
            return;
        }

        if (!KeyTemplate.TryParse(template, out var parsed, out var error))
        {
            plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidKeyTemplate, Inside(keyArgument, template, error!.Start, error.Length) ?? keyLocation, template, display, "it " + error.Message));
            return;
        }

        var expression = new StringBuilder();
        var prelude = new StringBuilder();
        var templateLiteral = SymbolDisplay.FormatLiteral(template, quote: true);
        foreach (var item in parsed!.Parts)
        {
            if (expression.Length > 0)
            {
                expression.Append(" + ");
            }

            if (item is string literal)
            {
                expression.Append(SymbolDisplay.FormatLiteral(literal, quote: true));
                continue;
            }

            var part = (KeyPlaceholder)item;

            var partLocation = Inside(keyArgument, template, part.Start, part.Length) ?? keyLocation;
            if (part.Source.Length > 0 && part.Source != ArgumentSource)
            {
                plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.InvalidKeyTemplate, partLocation, template, display,
                    $"the placeholder '{part.Text}' has a source prefix '{part.Source}:', but method keys bind only to the method's arguments; write '{{{part.RootName}}}' or '{{arg:{part.Name}}}'"));
                continue;
            }

            var local = "__singletonKeyArg" + part.Index.ToString(CultureInfo.InvariantCulture);
            var access = BindPlaceholder(method, part.Name, compilation, local, out var root, out var problem);
            if (access is null)
            {
                plan.Diagnostics.Add(Diagnostic.Create(SingletonDiagnostics.UnknownPlaceholder, partLocation, part.Text, template, display, problem));
                continue;
            }

            if (access != root)
            {
                prelude.Append("var ").Append(local).Append(" = ").Append(root).Append(';');
            }

            expression.Append("global::Coordination.Aspects.SingletonRuntime.KeyPart(")
                .Append(access).Append(", ").Append(templateLiteral).Append(", ")
                .Append(part.Index.ToString(CultureInfo.InvariantCulture)).Append(')');
        }

        plan.KeyExpression = expression.ToString();
        plan.KeyPrelude = prelude.ToString();
    }

    /// <summary>
    /// The expression reading placeholder <paramref name="name"/>: <c>@param</c>, or <c>local?.@Member...</c> reading through
    /// <paramref name="local"/>, a copy of <paramref name="root"/>.
    /// </summary>
    private static string? BindPlaceholder(IMethodSymbol method, string name, Compilation compilation, string local, out string root, out string problem)
    {
        problem = string.Empty;
        root = string.Empty;
        var segments = name.Split('.');
        var parameter = method.Parameters.FirstOrDefault(p => p.Name == segments[0]);
        if (parameter is null)
        {
            var names = method.Parameters.Length == 0 ? "it has no parameters" : "its parameters are " + string.Join(", ", method.Parameters.Select(p => p.Name));
            problem = $"names no parameter of the method ({names})";
            return null;
        }

        root = "@" + parameter.Name;
        if (segments.Length == 1)
        {
            return root;
        }

        if (parameter.Type is ITypeParameterSymbol)
        {
            problem = $"reads a member of '{parameter.Name}', whose type is a type parameter; use a parameter of a concrete type";
            return null;
        }

        var access = new StringBuilder(local);
        var type = parameter.Type;
        for (var i = 1; i < segments.Length; i++)
        {
            var nullable = !type.IsValueType || IsNullableValue(type);
            var lookup = IsNullableValue(type) ? ((INamedTypeSymbol)type).TypeArguments[0] : type;
            var member = FindMember(lookup, segments[i], compilation);
            if (member is null)
            {
                problem = $"names '{segments[i]}', which is not a readable instance property or field of '{lookup.ToDisplayString()}' accessible to this assembly";
                return null;
            }

            access.Append(nullable ? "?." : ".").Append('@').Append(member.Name);
            type = member switch
            {
                IPropertySymbol p => p.Type,
                IFieldSymbol f => f.Type,
                _ => type,
            };
        }

        return access.ToString();
    }

    private static bool IsNullableValue(ITypeSymbol type) =>
        type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;

    private static ISymbol? FindMember(ITypeSymbol type, string name, Compilation compilation)
    {
        IEnumerable<ITypeSymbol> Candidates()
        {
            for (var t = type; t is not null; t = t.BaseType)
            {
                yield return t;
            }

            foreach (var i in type.AllInterfaces)
            {
                yield return i;
            }
        }

        foreach (var candidate in Candidates())
        {
            foreach (var member in candidate.GetMembers(name))
            {
                var readable = member switch
                {
                    IPropertySymbol p => !p.IsStatic && !p.IsIndexer && p.GetMethod is not null && compilation.IsSymbolAccessibleWithin(p.GetMethod, compilation.Assembly),
                    IFieldSymbol f => !f.IsStatic && compilation.IsSymbolAccessibleWithin(f, compilation.Assembly),
                    _ => false,
                };
                if (readable && compilation.IsSymbolAccessibleWithin(member, compilation.Assembly))
                {
                    return member;
                }
            }
        }

        return null;
    }

    /// <summary>The location of characters <paramref name="start"/>..+<paramref name="length"/> of the key inside its string literal, when the literal has no escapes.</summary>
    private static Location? Inside(AttributeArgumentSyntax? argument, string template, int start, int length)
    {
        if (argument?.Expression is not LiteralExpressionSyntax literal || !literal.Token.IsKind(SyntaxKind.StringLiteralToken))
        {
            return null;
        }

        var text = literal.Token.Text;
        if (text != "\"" + template + "\"" && text != "@\"" + template + "\"")
        {
            return null;
        }

        var offset = literal.Token.SpanStart + text.IndexOf('"') + 1 + start;
        return Location.Create(literal.SyntaxTree, new Microsoft.CodeAnalysis.Text.TextSpan(offset, length));
    }
}
