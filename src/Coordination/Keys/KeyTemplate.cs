using System.Text;

namespace Coordination.Keys;

/// <summary>
/// A lock key template such as <c>orders:{id}</c> or <c>reports:{query:tenant}</c>. Placeholders are
/// <c>{name}</c> or <c>{source:name}</c>; a name may be a member path (<c>{order.Id}</c>). <c>{{</c> and
/// <c>}}</c> write literal braces. Integrations decide which sources exist (route, query, header, claim,
/// method or job arguments) and fill the placeholders with <see cref="Expand"/>.
/// </summary>
public sealed class KeyTemplate
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

    /// <summary>Parses <paramref name="template"/>.</summary>
    /// <exception cref="ArgumentException">The template is empty, has an unclosed or empty placeholder, or a stray brace.</exception>
    public static KeyTemplate Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (string.IsNullOrWhiteSpace(template))
        {
            throw new ArgumentException("A lock key template must not be empty or whitespace.", nameof(template));
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
                throw new ArgumentException($"Lock key template '{template}' has a '}}' at index {i} without a matching '{{' (write '}}}}' for a literal brace).", nameof(template));
            }
            else if (c == '{')
            {
                var close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    throw new ArgumentException($"Lock key template '{template}' has a '{{' at index {i} that is never closed.", nameof(template));
                }

                var body = template[(i + 1)..close].Trim();
                var placeholder = KeyPlaceholder.Parse(body, template);
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

        return new KeyTemplate(template, [.. parts], [.. placeholders]);
    }

    /// <summary>
    /// Fills the placeholders. <paramref name="resolve"/> returns the value of a placeholder, or
    /// <see langword="null"/> when the request/call does not supply it, which throws
    /// <see cref="KeyPlaceholderMissingException"/> naming the placeholder.
    /// </summary>
    public string Expand(Func<KeyPlaceholder, string?> resolve)
    {
        ArgumentNullException.ThrowIfNull(resolve);
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

/// <summary>One placeholder of a <see cref="KeyTemplate"/>.</summary>
/// <param name="Source">The source prefix (<c>query</c>, <c>header</c>, <c>claim</c>, <c>route</c>...), or empty for the default source.</param>
/// <param name="Name">The name; for member paths the full dotted path (<c>order.Id</c>).</param>
/// <param name="Text">The placeholder as written, with braces.</param>
public sealed record KeyPlaceholder(string Source, string Name, string Text)
{
    /// <summary>The first segment of <see cref="Name"/> (the parameter name of a member path).</summary>
    public string RootName => Name.Split('.')[0];

    /// <summary>The member path after <see cref="RootName"/>, empty when there is none.</summary>
    public IReadOnlyList<string> MemberPath => Name.Split('.')[1..];

    internal static KeyPlaceholder Parse(string body, string template)
    {
        if (body.Length == 0)
        {
            throw new ArgumentException($"Lock key template '{template}' has an empty placeholder '{{}}'.", nameof(template));
        }

        var colon = body.IndexOf(':', StringComparison.Ordinal);
        var source = colon >= 0 ? body[..colon].Trim() : string.Empty;
        var name = colon >= 0 ? body[(colon + 1)..].Trim() : body;
        if (name.Length == 0 || (colon >= 0 && source.Length == 0))
        {
            throw new ArgumentException($"Lock key template '{template}' has a malformed placeholder '{{{body}}}'; write '{{name}}' or '{{source:name}}'.", nameof(template));
        }

        if (name.Contains('{', StringComparison.Ordinal) || name.Split('.').Any(s => s.Length == 0))
        {
            throw new ArgumentException($"Lock key template '{template}' has a malformed placeholder '{{{body}}}'.", nameof(template));
        }

        return new KeyPlaceholder(source.ToLowerInvariant(), name, "{" + body + "}");
    }
}

/// <summary>A key template placeholder had no value for this request or call.</summary>
public sealed class KeyPlaceholderMissingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyPlaceholderMissingException(string template, KeyPlaceholder placeholder)
        : base($"The lock key template '{template}' needs a value for {placeholder.Text}, but none was supplied.")
    {
        Template = template;
        Placeholder = placeholder;
    }

    /// <summary>The template being expanded.</summary>
    public string Template { get; }

    /// <summary>The placeholder without a value.</summary>
    public KeyPlaceholder Placeholder { get; }
}
