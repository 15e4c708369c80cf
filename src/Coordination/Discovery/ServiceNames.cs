namespace Coordination.Discovery;

/// <summary>Validation of service names and instance ids: both become znode names and parts of Redis keys.</summary>
internal static class ServiceNames
{
    /// <summary>Longest service name or instance id accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="value"/> unless it is 1..128 characters of [a-z0-9-._] and not '.' or '..'.</summary>
    public static string Validate(string? value, string what, string paramName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"The {what} must not be empty.", paramName);
        }

        if (value.Length > MaxLength)
        {
            throw new ArgumentException($"The {what} '{value}' is {value.Length} characters long; at most {MaxLength} are allowed.", paramName);
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_'))
            {
                throw new ArgumentException($"The {what} '{value}' contains '{c}'; only lower-case letters, digits, '-', '.' and '_' are allowed.", paramName);
            }
        }

        if (value is "." or "..")
        {
            throw new ArgumentException($"The {what} '{value}' is reserved.", paramName);
        }

        return value;
    }
}
