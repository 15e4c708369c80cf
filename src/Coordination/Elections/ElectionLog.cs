using Microsoft.Extensions.Logging;

namespace Coordination.Elections;

internal static partial class ElectionLog
{
    [LoggerMessage(EventId = 2501, Level = LogLevel.Information, Message = "Election '{Election}': instance '{InstanceId}' leads (term token {FencingToken})")]
    public static partial void Elected(ILogger logger, string election, string instanceId, long fencingToken);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Warning, Message = "Election '{Election}': the term with token {FencingToken} ended: {Reason}")]
    public static partial void TermLost(ILogger logger, string election, long fencingToken, string reason);

    [LoggerMessage(EventId = 2503, Level = LogLevel.Information, Message = "Election '{Election}': the term with token {FencingToken} was given up ({Reason})")]
    public static partial void TermGivenUp(ILogger logger, string election, long fencingToken, string reason);

    [LoggerMessage(EventId = 2504, Level = LogLevel.Warning, Message = "Election '{Election}': cannot stand (ZooKeeper unavailable or the session ended); nobody leads on this instance's word, retrying")]
    public static partial void CampaignFailed(ILogger logger, string election, Exception exception);

    [LoggerMessage(EventId = 2505, Level = LogLevel.Debug, Message = "Election '{Election}': candidate node {Path} joined the queue")]
    public static partial void Joined(ILogger logger, string election, string path);

    [LoggerMessage(EventId = 2506, Level = LogLevel.Error, Message = "Leader service {Service} of election '{Election}' failed; it starts again in {Delay} while this instance leads")]
    public static partial void LeaderServiceFailed(ILogger logger, string service, string election, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 2507, Level = LogLevel.Information, Message = "Leader service {Service} of election '{Election}' starts (term token {FencingToken})")]
    public static partial void LeaderServiceStarting(ILogger logger, string service, string election, long fencingToken);

    [LoggerMessage(EventId = 2508, Level = LogLevel.Error, Message = "A LeadershipChanged handler of election '{Election}' threw")]
    public static partial void HandlerFailed(ILogger logger, string election, Exception exception);
}
