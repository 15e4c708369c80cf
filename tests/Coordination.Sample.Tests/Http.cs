using System.Net;
using System.Text.Json;

namespace Coordination.Sample.Tests;

/// <summary>Small JSON helpers over HttpClient.</summary>
internal static class Http
{
    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path, CancellationToken cancellationToken = default)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        return await ReadJsonAsync(response, HttpStatusCode.OK, cancellationToken);
    }

    public static async Task<JsonElement> PostJsonAsync(this HttpClient client, string path, HttpStatusCode expected = HttpStatusCode.OK, CancellationToken cancellationToken = default)
    {
        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), null, cancellationToken);
        return await ReadJsonAsync(response, expected, cancellationToken);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken = default)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} returned {(int)response.StatusCode}, expected {(int)expected}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>The snapshot behind the library's dashboard at /coordination.</summary>
    public static Task<JsonElement> GetDashboardSnapshotAsync(this HttpClient client) => client.GetJsonAsync("coordination/api/snapshot");

    /// <summary>The held lock <paramref name="key"/> as the dashboard of <paramref name="client"/>'s instance lists it.</summary>
    public static async Task<JsonElement?> FindHeldLockAsync(this HttpClient client, string key)
    {
        var snapshot = await client.GetDashboardSnapshotAsync();
        foreach (var l in snapshot.GetProperty("locks").EnumerateArray())
        {
            if (l.GetProperty("key").GetString() == key)
            {
                return l;
            }
        }

        return null;
    }
}
