using System.Text.Json;
using System.Text.Json.Serialization;

namespace Coordination.Elections;

/// <summary>
/// The JSON content of a candidate's node: <c>{"instanceId":..,"host":..,"pid":..,"endpoints":[..],"joinedAt":..,"leaderSince":..}</c>.
/// <c>leaderSince</c> is stamped (setData) once the candidate leads.
/// </summary>
internal sealed record LeaderCandidateData(
    [property: JsonPropertyName("instanceId")] string InstanceId,
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("endpoints")] IReadOnlyList<string> Endpoints,
    [property: JsonPropertyName("joinedAt")] DateTimeOffset JoinedAt,
    [property: JsonPropertyName("leaderSince")] DateTimeOffset? LeaderSince = null)
{
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this);

    public static LeaderCandidateData? Parse(ReadOnlySpan<byte> data)
    {
        try
        {
            return data.IsEmpty ? null : JsonSerializer.Deserialize<LeaderCandidateData>(data);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
