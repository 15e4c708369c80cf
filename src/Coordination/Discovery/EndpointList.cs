using System.Text.RegularExpressions;

namespace Coordination.Discovery;

/// <summary>Turns configured or bound addresses into the absolute URIs an instance announces.</summary>
internal static partial class EndpointList
{
    // Kestrel's wildcard forms: http://+:80, http://*:80, http://0.0.0.0:80, http://[::]:80.
    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?<host>\+|\*|0\.0\.0\.0|\[::\])(?<rest>[:/].*)?$")]
    private static partial Regex Wildcard();

    /// <summary>
    /// Validates and normalizes <paramref name="raw"/>: wildcard hosts become <paramref name="advertisedHost"/>,
    /// every entry must be an absolute URI with a host and no query or fragment, duplicates are dropped.
    /// </summary>
    /// <exception cref="ServiceDiscoveryException">The list is empty or an entry cannot be parsed (the message names it).</exception>
    public static List<Uri> Normalize(IEnumerable<string> raw, string advertisedHost, string serviceName, string source)
    {
        var result = new List<Uri>();
        foreach (var entry in raw)
        {
            var text = entry?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                throw new ServiceDiscoveryException($"Service '{serviceName}': an endpoint in {source} is empty.");
            }

            var m = Wildcard().Match(text);
            if (m.Success)
            {
                text = $"{m.Groups["scheme"].Value}://{advertisedHost}{m.Groups["rest"].Value}";
            }

            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.IsFile || uri.IsUnc)
            {
                throw new ServiceDiscoveryException($"Service '{serviceName}': endpoint '{entry}' in {source} is not an absolute URI such as 'http://host:8080'.");
            }

            if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
            {
                throw new ServiceDiscoveryException($"Service '{serviceName}': endpoint '{entry}' in {source} must not have a query or fragment.");
            }

            if (!result.Contains(uri))
            {
                result.Add(uri);
            }
        }

        if (result.Count == 0)
        {
            throw new ServiceDiscoveryException($"Service '{serviceName}' has no endpoints to announce: {source} is empty. Set ServiceRegistrationOptions.Endpoints or let the server bind an address.");
        }

        return result;
    }
}
