using System.Globalization;

namespace Coordination.Nemesis;

/// <summary><c>--name value</c> command-line options, with errors that name the option.</summary>
internal sealed class NemesisArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public NemesisArgs(IEnumerable<string> args)
    {
        string? name = null;
        foreach (var arg in args)
        {
            if (name is null)
            {
                if (!arg.StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Expected an option (--name value), got '{arg}'.");
                }

                name = arg[2..];
            }
            else
            {
                _values[name] = arg;
                name = null;
            }
        }

        if (name is not null)
        {
            throw new ArgumentException($"Option --{name} needs a value.");
        }
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Option --{name} is required.");

    public string Optional(string name, string fallback) => _values.TryGetValue(name, out var value) ? value : fallback;

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var value)
        ? int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--{name} '{value}' is not a positive whole number.")
        : fallback;
}
