namespace Coordination.Configuration;

/// <summary>A configuration write was refused because the node's version was not the expected one (another writer won).</summary>
public sealed class ConfigurationConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationConflictException() : this("The configuration node was changed by another writer.") { }

    /// <summary>Creates the exception with a message.</summary>
    public ConfigurationConflictException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the ZooKeeper error.</summary>
    public ConfigurationConflictException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public ConfigurationConflictException(string key, int expectedVersion, Exception? innerException)
        : base(expectedVersion == -1
            ? $"Configuration key '{key}' already exists (expected it to be absent)."
            : $"Configuration key '{key}' is not at the expected version {expectedVersion}: another writer changed or deleted it.", innerException)
    {
        Key = key;
        ExpectedVersion = expectedVersion;
    }

    /// <summary>The key that was written.</summary>
    public string? Key { get; }

    /// <summary>The version the writer expected (-1: the key must not exist).</summary>
    public int ExpectedVersion { get; }
}
