using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Coordination.AspNetCore.Dashboard;

/// <summary>
/// The page's files, embedded in this assembly (no CDN: the dashboard works offline). Each is served with a strong
/// ETag from its content, so a browser revalidates cheaply and never runs a stale script after an upgrade.
/// </summary>
internal sealed class DashboardAssets
{
    private const string Prefix = "Coordination.AspNetCore.Dashboard.Assets.";

    private static readonly Lazy<DashboardAssets> Loaded = new(() => new DashboardAssets());

    private readonly Dictionary<string, Asset> _files = new(StringComparer.Ordinal);

    private DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var file = name[Prefix.Length..];
            var type = Path.GetExtension(file) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "text/html; charset=utf-8",
            };
            _files[file] = new Asset(bytes, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
    }

    public static DashboardAssets Instance => Loaded.Value;

    /// <summary>The page template; <c>{{base}}</c>, <c>{{refreshMs}}</c> and <c>{{version}}</c> are filled per request.</summary>
    public string PageTemplate => System.Text.Encoding.UTF8.GetString(_files["index.html"].Bytes);

    /// <summary>A short hash of every asset, appended to their URLs.</summary>
    public string Version => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(_files.Values.Select(f => f.ETag)))))[..12];

    /// <summary>Serves <paramref name="file"/> (404 for a name that is not an asset), answering 304 to a matching If-None-Match.</summary>
    public IResult Serve(HttpContext context, string file)
    {
        if (file == "index.html" || !_files.TryGetValue(file, out var asset))
        {
            return Results.NotFound();
        }

        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        return context.Request.Headers.IfNoneMatch == asset.ETag
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
