using System.Text;

namespace Coordination.Keys;

/// <summary>
/// Validates lock keys and encodes them into a znode name and a Redis key. The znode name is the key's
/// UTF-8 bytes with every byte outside <c>[A-Za-z0-9._-]</c> written as <c>%XX</c>, so <c>/</c>, spaces and
/// unicode are safe and the mapping is reversible and collision-free.
/// </summary>
internal static class LockKey
{
    public static void Validate(string? key, int maxLength, string paramName = "key")
    {
        if (key is null)
        {
            throw new ArgumentNullException(paramName, "A lock key is required.");
        }

        if (key.Length == 0 || string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"A lock key must not be empty or whitespace (got '{key}').", paramName);
        }

        foreach (var c in key)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"Lock key '{Printable(key)}' contains the control character U+{(int)c:X4}.", paramName);
            }
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"Lock key '{Printable(key)}' is not valid Unicode (unpaired surrogate).", paramName);
        }

        if (bytes > maxLength)
        {
            throw new ArgumentException($"Lock key '{Printable(key)[..Math.Min(key.Length, 40)]}...' is {bytes} UTF-8 bytes; the limit is {maxLength}.", paramName);
        }
    }

    /// <summary>Encodes a validated key into a single znode name segment.</summary>
    public static string ToNodeName(string key)
    {
        if (IsNodeNameAsIs(key))
        {
            return key; // the usual key (letters, digits, '-', '_', '.' not first) is its own node name
        }

        var bytes = Encoding.UTF8.GetBytes(key);
        var sb = new StringBuilder(bytes.Length + 8);
        foreach (var b in bytes)
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'_' || (b == (byte)'.' && sb.Length > 0))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static bool IsNodeNameAsIs(string key)
    {
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (!(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' || (c == '.' && i > 0)))
            {
                return false;
            }
        }

        return key.Length > 0;
    }

    /// <summary>Decodes a znode name made by <see cref="ToNodeName"/> back into the key.</summary>
    public static string FromNodeName(string name)
    {
        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] == '%' && i + 2 < name.Length && byte.TryParse(name.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.Add((byte)name[i]);
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string Printable(string key)
    {
        var sb = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString());
        }

        return sb.ToString();
    }
}
