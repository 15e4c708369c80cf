// Shared source: compiled into Coordination (public) and, as a linked file, into Coordination.Aspects.Generator
// (internal, netstandard2.0), so the compile-time and run-time template rules are one piece of code. Keep it to
// APIs netstandard2.0 has (no ranges, no ArgumentNullException.ThrowIfNull, no string.Contains(char)).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Coordination.Keys;

/// <summary>
/// A lock key template such as <c>orders:{id}</c> or <c>reports:{query:tenant}</c>. Placeholders are
/// <c>{name}</c> or <c>{source:name}</c>; a name may be a member path (<c>{order.Id}</c>). <c>{{</c> and
/// <c>}}</c> write literal braces. Integrations decide which sources exist (route, query, header, claim,
/// method or job arguments) and fill the placeholders with <see cref="Expand"/>.
/// </summary>
#if COORDINATION_KEYS_INTERNAL
internal
#else
public
#endif
sealed class KeyTemplate
{
    private readonly object[] _parts; // string literal or KeyPlaceholder

    private KeyTemplate(string template, object[] parts, KeyPlaceholder[] placeholders)
    {
        Template = template;
        _parts = parts;
        Placeholders = placeholders;
    }

    /// <summary>The template text.</summary>
    public string Template { get; }

    /// <summary>The placeholders in order of appearance.</summary>
    public IReadOnlyList<KeyPlaceholder> Placeholders { get; }

    /// <summary>True when the template has no placeholders.</summary>
    public bool IsConstant => Placeholders.Count == 0;

    /// <summary>The literal parts and placeholders in order; a literal is a <see cref="string"/> (braces unescaped).</summary>
    internal IReadOnlyList<object> Parts => _parts;

    /// <summary>Parses <paramref name="template"/>.</summary>
    /// <exception cref="ArgumentException">The template is empty, has an unclosed or empty placeholder, or a stray brace.</exception>
    public static KeyTemplate Parse(string template)
    {
        if (template is null)
        {
            throw new ArgumentNullException(nameof(template));
        }

        return TryParse(template, out var parsed, out var error)
            ? parsed!
            : throw new ArgumentException($"Lock key template '{template}' {error!.Message}.", nameof(template));
    }

    /// <summary>
    /// Parses <paramref name="template"/> without throwing; on failure <paramref name="error"/> says what is wrong
    /// ("has a '{' at index 3 that is never closed") and where, so the generator can underline it.
    /// </summary>
    internal static bool TryParse(string template, out KeyTemplate? result, out KeyTemplateError? error)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(template))
        {
            error = new KeyTemplateError("must not be empty or whitespace", 0, template?.Length ?? 0);
            return false;
        }

        var parts = new List<object>();
        var placeholders = new List<KeyPlaceholder>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < template.Length && template[i + 1] == '}')
            {
                literal.Append('}');
                i++;
            }
            else if (c == '}')
            {
                error = new KeyTemplateError($"has a '}}' at index {i} without a matching '{{' (write '}}}}' for a literal brace)", i, 1);
                return false;
            }
            else if (c == '{')
            {
                var close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    error = new KeyTemplateError($"has a '{{' at index {i} that is never closed", i, template.Length - i);
                    return false;
                }

                var body = template.Substring(i + 1, close - i - 1).Trim();
                var placeholder = KeyPlaceholder.TryCreate(body, placeholders.Count, i, close - i + 1, out error);
                if (placeholder is null)
                {
                    return false;
                }

                if (literal.Length > 0)
                {
                    parts.Add(literal.ToString());
                    literal.Clear();
                }

                parts.Add(placeholder);
                placeholders.Add(placeholder);
                i = close;
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            parts.Add(literal.ToString());
        }

        error = null;
        result = new KeyTemplate(template, parts.ToArray(), placeholders.ToArray());
        return true;
    }

    /// <summary>
    /// Formats one placeholder value the way every integration does: strings as they are, <see cref="IFormattable"/>
    /// values (numbers, dates, GUIDs) with the invariant culture, anything else with <see cref="object.ToString"/>.
    /// Returns <see langword="null"/> for a null value.
    /// </summary>
    public static string? FormatValue(object? value) => value switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>
    /// Fills the placeholders. <paramref name="resolve"/> returns the value of a placeholder, or
    /// <see langword="null"/> when the request/call does not supply it, which throws
    /// <see cref="KeyPlaceholderMissingException"/> naming the placeholder.
    /// </summary>
    public string Expand(Func<KeyPlaceholder, string?> resolve)
    {
        if (resolve is null)
        {
            throw new ArgumentNullException(nameof(resolve));
        }

        if (_parts.Length == 1 && _parts[0] is string only)
        {
            return only;
        }

        var sb = new StringBuilder(Template.Length + 16);
        foreach (var part in _parts)
        {
            if (part is string s)
            {
                sb.Append(s);
            }
            else
            {
                var p = (KeyPlaceholder)part;
                var value = resolve(p) ?? throw new KeyPlaceholderMissingException(Template, p);
                sb.Append(value);
            }
        }

        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Template;
}
