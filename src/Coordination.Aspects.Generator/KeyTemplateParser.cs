using System.Collections.Generic;
using System.Text;

namespace Coordination.Aspects.Generator;

/// <summary>One part of a parsed key template: a literal, or a placeholder with its position in the template text.</summary>
internal sealed record KeyPart(string? Literal, string? Source, string? Name, string? Text, int Index, int Start, int Length);

/// <summary>
/// Parses lock key templates with exactly the rules of <c>Coordination.Keys.KeyTemplate</c> (the generator cannot
/// reference the runtime library): <c>{name}</c>, <c>{source:name}</c>, member paths, <c>{{</c>/<c>}}</c> escapes.
/// </summary>
internal static class KeyTemplateParser
{
    /// <summary>Returns the parts, or null and an error message with the offending span.</summary>
    public static List<KeyPart>? Parse(string template, out string? error, out int errorStart, out int errorLength)
    {
        error = null;
        errorStart = 0;
        errorLength = template.Length;
        if (string.IsNullOrWhiteSpace(template))
        {
            error = "the template is empty";
            return null;
        }

        var parts = new List<KeyPart>();
        var literal = new StringBuilder();
        var index = 0;
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
                error = $"the '}}' at index {i} has no matching '{{' (write '}}}}' for a literal brace)";
                errorStart = i;
                errorLength = 1;
                return null;
            }
            else if (c == '{')
            {
                var close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    error = $"the '{{' at index {i} is never closed";
                    errorStart = i;
                    errorLength = template.Length - i;
                    return null;
                }

                var body = template.Substring(i + 1, close - i - 1).Trim();
                errorStart = i;
                errorLength = close - i + 1;
                if (body.Length == 0)
                {
                    error = "it has an empty placeholder '{}'";
                    return null;
                }

                var colon = body.IndexOf(':');
                var source = colon >= 0 ? body.Substring(0, colon).Trim() : string.Empty;
                var name = colon >= 0 ? body.Substring(colon + 1).Trim() : body;
                if (name.Length == 0 || (colon >= 0 && source.Length == 0) || name.IndexOf('{') >= 0 || HasEmptySegment(name))
                {
                    error = $"the placeholder '{{{body}}}' is malformed; write '{{name}}' or '{{name.Member}}'";
                    return null;
                }

                if (literal.Length > 0)
                {
                    parts.Add(new KeyPart(literal.ToString(), null, null, null, -1, 0, 0));
                    literal.Clear();
                }

                parts.Add(new KeyPart(null, source.ToLowerInvariant(), name, "{" + body + "}", index++, i, close - i + 1));
                i = close;
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            parts.Add(new KeyPart(literal.ToString(), null, null, null, -1, 0, 0));
        }

        return parts;
    }

    private static bool HasEmptySegment(string name)
    {
        foreach (var segment in name.Split('.'))
        {
            if (segment.Length == 0)
            {
                return true;
            }
        }

        return false;
    }
}
