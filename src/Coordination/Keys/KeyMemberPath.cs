using System.Collections.Concurrent;
using System.Reflection;

namespace Coordination.Keys;

/// <summary>
/// Run-time member paths (<c>{order.Customer.Id}</c>) for hosts that bind keys to arguments by reflection (MVC action
/// arguments, Hangfire job arguments). Same rule as the compile-time aspect: each segment names a readable instance
/// property or field, matched by exact (ordinal) name; values are formatted by <see cref="KeyTemplate.FormatValue"/>.
/// </summary>
internal static class KeyMemberPath
{
    private const BindingFlags Public = BindingFlags.Public | BindingFlags.Instance;
    private static readonly ConcurrentDictionary<(Type, string), MemberInfo?> Members = new();

    /// <summary>Checks <paramref name="path"/> against <paramref name="root"/>; on failure names the first segment that does not exist.</summary>
    /// <remarks>A segment typed <see cref="object"/> ends the check: the rest is resolved against the run-time type.</remarks>
    public static bool TryResolveType(Type root, IReadOnlyList<string> path, out string? missingSegment, out Type? missingOn)
    {
        var type = root;
        foreach (var segment in path)
        {
            if (type == typeof(object))
            {
                break;
            }

            var member = Find(type, segment);
            if (member is null)
            {
                missingSegment = segment;
                missingOn = type;
                return false;
            }

            type = member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;
        }

        missingSegment = null;
        missingOn = null;
        return true;
    }

    /// <summary>
    /// Reads <paramref name="path"/> from <paramref name="value"/>; <see langword="null"/> when a step is null or missing,
    /// with <paramref name="failedSegment"/> naming that step (or null when the root itself is null).
    /// </summary>
    public static object? Read(object? value, IReadOnlyList<string> path, out string? failedSegment)
    {
        failedSegment = null;
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
            if (value is null)
            {
                failedSegment = segment;
            }
        }

        return value;
    }

    private static MemberInfo? Find(Type type, string name) => Members.GetOrAdd((type, name), static key =>
        key.Item1.GetProperty(key.Item2, Public) is { } p && p.GetIndexParameters().Length == 0 && p.GetMethod is not null
            ? p
            : key.Item1.GetField(key.Item2, Public));
}
