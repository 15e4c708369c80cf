using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;

namespace Coordination.AspNetCore.Middleware;

/// <summary>Reads <c>{order.Customer.Id}</c>-style member paths from bound action arguments (public properties or fields, case-insensitive).</summary>
internal static class MemberPaths
{
    private const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase;
    private static readonly ConcurrentDictionary<(Type, string), MemberInfo?> Members = new();

    /// <summary>The type at the end of <paramref name="path"/>, or null naming the first segment that does not exist.</summary>
    public static bool TryResolveType(Type root, IReadOnlyList<string> path, out string? missingSegment)
    {
        var type = root;
        foreach (var segment in path)
        {
            var member = Find(type, segment);
            if (member is null)
            {
                missingSegment = segment;
                return false;
            }

            type = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
        }

        missingSegment = null;
        return true;
    }

    /// <summary>Formats the value at <paramref name="path"/> of <paramref name="value"/> invariantly; null when any step is null.</summary>
    public static string? Read(object? value, IReadOnlyList<string> path)
    {
        foreach (var segment in path)
        {
            if (value is null)
            {
                return null;
            }

            value = Find(value.GetType(), segment) switch
            {
                PropertyInfo p => p.GetValue(value),
                FieldInfo f => f.GetValue(value),
                _ => null,
            };
        }

        return Convert.ToString(value, CultureInfo.InvariantCulture);
    }

    private static MemberInfo? Find(Type type, string name) => Members.GetOrAdd((type, name), static key =>
        (MemberInfo?)key.Item1.GetProperty(key.Item2, Public) is { } p && ((PropertyInfo)p).GetIndexParameters().Length == 0
            ? p
            : key.Item1.GetField(key.Item2, Public));
}
