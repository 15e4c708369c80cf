namespace WebApp.Services;

/// <summary>Reads the values a configuration provider (here the ZooKeeper one) currently holds.</summary>
public static class ConfigurationProviderValues
{
    /// <summary>Every key and value of <paramref name="provider"/>, ordered by key.</summary>
    public static SortedDictionary<string, string?> Snapshot(Microsoft.Extensions.Configuration.IConfigurationProvider provider)
    {
        var result = new SortedDictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Walk(provider, null, result);
        return result;
    }

    private static void Walk(Microsoft.Extensions.Configuration.IConfigurationProvider provider, string? parent, SortedDictionary<string, string?> result)
    {
        foreach (var child in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = parent is null ? child : parent + ":" + child;
            if (provider.TryGet(key, out var value) && value is not null)
            {
                result[key] = value;
            }

            Walk(provider, key, result);
        }
    }
}
