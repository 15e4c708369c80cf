using System.Globalization;
using Coordination.Keys;
using Microsoft.AspNetCore.Http;

namespace Coordination.AspNetCore.Middleware;

/// <summary>What the middleware does for one endpoint: the parsed template and the effective settings, computed once.</summary>
internal sealed class EndpointLockPlan
{
    public EndpointLockPlan(KeyTemplate template, TimeSpan timeout, int contentionStatusCode, bool exposeFencingTokenHeader, Func<DistributedLockContentionContext, CancellationToken, ValueTask>? onContention, IReadOnlyDictionary<string, string> argumentNames)
    {
        Template = template;
        ArgumentNames = argumentNames;
        Timeout = timeout;
        ContentionStatusCode = contentionStatusCode;
        ExposeFencingTokenHeader = exposeFencingTokenHeader;
        OnContention = onContention;
    }

    public KeyTemplate Template { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Permits per key (1 = the lock); see <see cref="IDistributedLockMetadata.MaxConcurrency"/>.</summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Exclusive, read or write; see <see cref="IDistributedLockMetadata.Access"/>.</summary>
    public LockAccess Access { get; init; }

    public int ContentionStatusCode { get; }

    public bool ExposeFencingTokenHeader { get; }

    public Func<DistributedLockContentionContext, CancellationToken, ValueTask>? OnContention { get; }

    /// <summary>Placeholder name → MVC action parameter name, for placeholders only a bound action argument can fill.</summary>
    public IReadOnlyDictionary<string, string> ArgumentNames { get; }

    /// <summary>True when the key needs bound action arguments, so the lock is taken by the MVC action filter instead of the middleware.</summary>
    public bool UsesActionArguments => ArgumentNames.Count > 0;

    /// <summary>Fills the template from the request (and bound action arguments); throws <see cref="KeyPlaceholderMissingException"/> for a missing value.</summary>
    public string ExpandKey(HttpContext context, IDictionary<string, object?>? arguments) => Template.Expand(p => Resolve(p, context, arguments));

    // Sources were checked when the plan was built, so an unknown one cannot reach this switch.
    private string? Resolve(KeyPlaceholder placeholder, HttpContext context, IDictionary<string, object?>? arguments)
    {
        var value = placeholder.Source switch
        {
            "" when ArgumentNames.TryGetValue(placeholder.Name, out var parameter) =>
                arguments is not null && arguments.TryGetValue(parameter, out var argument) ? KeyTemplate.FormatValue(KeyMemberPath.Read(argument, placeholder.MemberPath, out _)) : null,
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
