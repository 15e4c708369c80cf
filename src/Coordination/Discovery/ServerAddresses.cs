using Microsoft.AspNetCore.Http.Features;

namespace Coordination.Discovery;

/// <summary>
/// Reads the addresses an ASP.NET Core server has bound (<c>IServer.Features.Get&lt;IServerAddressesFeature&gt;()</c>)
/// without a compile-time reference to ASP.NET Core, so the core library stays usable in plain generic hosts.
/// </summary>
internal static class ServerAddresses
{
    private const string ServerTypeName = "Microsoft.AspNetCore.Hosting.Server.IServer, Microsoft.AspNetCore.Hosting.Server.Abstractions";
    private const string FeatureTypeName = "Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature";

    /// <summary>The bound addresses, or null when the host has no ASP.NET Core server.</summary>
    public static IReadOnlyList<string>? Get(IServiceProvider services)
    {
        var serverType = Type.GetType(ServerTypeName, throwOnError: false);
        if (serverType is null || services.GetService(serverType) is not { } server)
        {
            return null;
        }

        if (serverType.GetProperty("Features")?.GetValue(server) is not IFeatureCollection features)
        {
            return null;
        }

        foreach (var (type, feature) in features)
        {
            if (type.FullName == FeatureTypeName && feature is not null)
            {
                return type.GetProperty("Addresses")?.GetValue(feature) is IEnumerable<string> addresses ? [.. addresses] : null;
            }
        }

        return null;
    }
}
