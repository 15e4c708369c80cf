namespace Coordination.ZooKeeper;

/// <summary>Path rules of ZooKeeper (the same as the server's <c>PathUtils.validatePath</c>).</summary>
public static class ZooKeeperPath
{
    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="path"/> when it is not a valid znode path.</summary>
    /// <param name="path">The path to check.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <param name="sequential">The path is the prefix of a sequential create, so it may end with '/'.</param>
    public static void Validate(string? path, string paramName = "path", bool sequential = false)
    {
        if (path is null)
        {
            throw new ArgumentNullException(paramName, "The znode path is null.");
        }

        if (path.Length == 0)
        {
            throw new ArgumentException("The znode path is empty; paths are absolute, e.g. '/app/locks'.", paramName);
        }

        if (path[0] != '/')
        {
            throw new ArgumentException($"The znode path '{path}' is not absolute: it must start with '/'.", paramName);
        }

        if (path.Length == 1)
        {
            return;
        }

        if (path[^1] == '/' && !sequential)
        {
            throw new ArgumentException($"The znode path '{path}' must not end with '/'.", paramName);
        }

        var last = '/';
        for (var i = 1; i < path.Length; i++)
        {
            var c = path[i];
            string? reason = null;
            if (c == '\0')
            {
                reason = $"it contains a null character at index {i}";
            }
            else if (c == '/' && last == '/')
            {
                reason = $"it has an empty segment at index {i}";
            }
            else if (c == '.' && last == '.' && path[i - 2] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                reason = $"it contains the relative segment '..' at index {i - 1}";
            }
            else if (c == '.' && path[i - 1] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
            {
                reason = $"it contains the relative segment '.' at index {i}";
            }
            else if (c is > '\u0000' and <= '\u001f' or >= '\u007f' and <= '\u009F' or >= '\ud800' and <= '\uf8ff' or >= '\ufff0' and <= '\uffff')
            {
                reason = $"it contains the forbidden character U+{(int)c:X4} at index {i}";
            }

            if (reason is not null)
            {
                throw new ArgumentException($"The znode path '{path}' is invalid: {reason}.", paramName);
            }

            last = c;
        }
    }

    /// <summary>Joins a parent path and a child name.</summary>
    public static string Combine(string parent, string child) => parent == "/" ? "/" + child : parent + "/" + child;

    /// <summary>The parent of <paramref name="path"/> ("/" for top-level nodes).</summary>
    public static string GetParent(string path)
    {
        var i = path.LastIndexOf('/');
        return i <= 0 ? "/" : path[..i];
    }

    /// <summary>The last segment of <paramref name="path"/>.</summary>
    public static string GetName(string path) => path[(path.LastIndexOf('/') + 1)..];
}
