// Shared source (see KeyTemplate.cs): linked into the generator, netstandard2.0-safe.
using System;
using System.Collections.Generic;
using System.Linq;

namespace Coordination.Keys;

/// <summary>One placeholder of a <see cref="KeyTemplate"/>.</summary>
/// <param name="Source">The source prefix (<c>query</c>, <c>header</c>, <c>claim</c>, <c>route</c>, <c>arg</c>...), lower case, or empty for the default source.</param>
/// <param name="Name">The name; for member paths the full dotted path (<c>order.Id</c>).</param>
/// <param name="Text">The placeholder as written, with braces.</param>
#if COORDINATION_KEYS_INTERNAL
internal
#else
public
#endif
sealed record KeyPlaceholder(string Source, string Name, string Text)
{
    /// <summary>The first segment of <see cref="Name"/> (the parameter name of a member path).</summary>
    public string RootName => Name.Split('.')[0];

    /// <summary>The member path after <see cref="RootName"/>, empty when there is none.</summary>
    public IReadOnlyList<string> MemberPath => Name.Split('.').Skip(1).ToArray();

    /// <summary>The position of this placeholder among the template's placeholders (0 for the first).</summary>
    public int Index { get; init; }

    /// <summary>Where the placeholder (with its braces) starts in the template text.</summary>
    internal int Start { get; init; }

    /// <summary>The length of the placeholder as written in the template text, braces included.</summary>
    internal int Length { get; init; }

    internal static KeyPlaceholder? TryCreate(string body, int index, int start, int length, out KeyTemplateError? error)
    {
        error = null;
        if (body.Length == 0)
        {
            error = new KeyTemplateError("has an empty placeholder '{}'", start, length);
            return null;
        }

        var colon = body.IndexOf(':');
        var source = colon >= 0 ? body.Substring(0, colon).Trim() : string.Empty;
        var name = colon >= 0 ? body.Substring(colon + 1).Trim() : body;
        if (name.Length == 0 || (colon >= 0 && source.Length == 0) || name.IndexOf('{') >= 0 || name.Split('.').Any(s => s.Length == 0))
        {
            error = new KeyTemplateError($"has a malformed placeholder '{{{body}}}'; write '{{name}}', '{{name.Member}}' or '{{source:name}}'", start, length);
            return null;
        }

        return new KeyPlaceholder(source.ToLowerInvariant(), name, "{" + body + "}") { Index = index, Start = start, Length = length };
    }
}
