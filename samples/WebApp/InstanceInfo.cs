using System.Globalization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace WebApp;

/// <summary>Names this process in responses: <c>machine:port</c> once Kestrel is listening.</summary>
public sealed class InstanceInfo(IServer server)
{
    private string? _name;

    /// <summary>The instance name, e.g. <c>myhost:5080</c>.</summary>
    public string Name => _name ?? Compute();

    /// <summary>The name of an instance serving on <paramref name="endpoint"/>.</summary>
    public static string NameFor(Uri endpoint) => Environment.MachineName + ":" + endpoint.Port.ToString(CultureInfo.InvariantCulture);

    private string Compute()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null || !Uri.TryCreate(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return Environment.MachineName + ":?";
        }

        return _name = NameFor(uri);
    }
}
