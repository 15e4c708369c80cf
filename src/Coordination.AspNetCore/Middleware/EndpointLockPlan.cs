using System.Globalization;
using Coordination.Keys;
using Microsoft.AspNetCore.Http;

namespace Coordination.AspNetCore.Middleware;

/// <summary>What the middleware does for one endpoint: the parsed template and the effective settings, computed once.</summary>
internal sealed class EndpointLockPlan
{
    public EndpointLockPlan(KeyTemplate template, TimeSpan timeout, int contentionStatusCode, bool exposeFencingTokenHeader, Func<DistributedLockContentionContext, CancellationToken, ValueTask>? onContention)
    {
        Template = template;
        Timeout = timeout;
        ContentionStatusCode = contentionStatusCode;
        ExposeFencingTokenHeader = exposeFencingTokenHeader;
        OnContention = onContention;
    }

    public KeyTemplate Template { get; }

    public TimeSpan Timeout { get; }

    public int ContentionStatusCode { get; }

    public bool ExposeFencingTokenHeader { get; }

    public Func<DistributedLockContentionContext, CancellationToken, ValueTask>? OnContention { get; }

    /// <summary>Fills the template from the request; throws <see cref="KeyPlaceholderMissingException"/> for a missing value.</summary>
    public string ExpandKey(HttpContext context) => Template.Expand(p => Resolve(p, context));

    // Sources were checked when the plan was built, so an unknown one cannot reach this switch.
    private static string? Resolve(KeyPlaceholder placeholder, HttpContext context)
    {
        var value = placeholder.Source switch
        {
            "" or PlaceholderSources.Route => Convert.ToString(context.Request.RouteValues[placeholder.Name], CultureInfo.InvariantCulture),
            PlaceholderSources.Query => JoinValues(context.Request.Query[placeholder.Name]),
            PlaceholderSources.Header => JoinValues(context.Request.Headers[placeholder.Name]),
            PlaceholderSources.Claim => context.User.FindFirst(placeholder.Name)?.Value,
            _ => null,
        };
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static string? JoinValues(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();
}

/// <summary>The placeholder sources endpoints understand.</summary>
internal static class PlaceholderSources
{
    public const string Route = "route";
    public const string Query = "query";
    public const string Header = "header";
    public const string Claim = "claim";
}
