namespace Coordination.Discovery;

/// <summary>Where discovery keeps its nodes and keys.</summary>
internal static class DiscoveryPaths
{
    public static string Service(HybridCoordinationOptions options, string serviceName) =>
        options.UnderRoot("services/" + serviceName);

    public static string RedisKey(HybridCoordinationOptions options, string serviceName) => options.RedisPrefix + "services:" + serviceName;
}
