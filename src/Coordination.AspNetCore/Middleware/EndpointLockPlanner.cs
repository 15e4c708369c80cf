using System.Runtime.CompilerServices;
using Coordination.Keys;
using Coordination.Locks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.Middleware;

/// <summary>
/// Turns an endpoint's metadata into an <see cref="EndpointLockPlan"/>, checking everything that can be known before
/// a request arrives (template syntax, placeholder sources, route parameters, timeout, status code). Used by the
/// startup check for every endpoint and by the middleware, which caches the plan per endpoint.
/// </summary>
/// <remarks>
/// Declarations, most specific last in endpoint metadata (controller, then action; group, then endpoint), are any
/// <see cref="IDistributedLockMetadata"/> (<see cref="DistributedLockAttribute"/>, <see cref="SingletonAttribute"/>, on
/// an action, a controller, a minimal-API lambda or added by <c>.WithDistributedLock</c>) and
/// <see cref="DisableDistributedLockAttribute"/>; the last one wins. The response settings come from the last
/// <see cref="DistributedLockResponseAttribute"/>, then the options.
/// </remarks>
internal sealed class EndpointLockPlanner(IOptions<DistributedLockEndpointOptions> options)
{
    private readonly ConditionalWeakTable<Endpoint, Entry> _cache = [];
    private readonly DistributedLockEndpointOptions _options = options.Value;

    /// <summary>The cached plan for <paramref name="endpoint"/>, or null when it is not locked.</summary>
    /// <exception cref="InvalidOperationException">The endpoint's lock declaration is invalid.</exception>
    public EndpointLockPlan? GetPlan(Endpoint endpoint) => _cache.GetValue(endpoint, e =>
    {
        var errors = new List<string>();
        var plan = Build(e, errors);
        return errors.Count > 0 ? throw new InvalidOperationException(string.Join(Environment.NewLine, errors)) : new Entry(plan);
    }).Plan;

    /// <summary>Builds the plan, adding a message per problem to <paramref name="errors"/>.</summary>
    public EndpointLockPlan? Build(Endpoint endpoint, List<string> errors)
    {
        var name = endpoint.DisplayName ?? endpoint.ToString() ?? "(unnamed endpoint)";
        var declaration = FindDeclaration(endpoint);
        if (declaration is null)
        {
            return null;
        }

        var start = errors.Count;
        if (string.IsNullOrWhiteSpace(declaration.Key))
        {
            errors.Add($"Endpoint '{name}': the distributed lock key template must not be empty (endpoints have no default key).");
            return null;
        }

        KeyTemplate template;
        try
        {
            template = KeyTemplate.Parse(declaration.Key);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"Endpoint '{name}': invalid distributed lock key template. {ex.Message}");
            return null;
        }

        var action = endpoint.Metadata.GetMetadata<ControllerActionDescriptor>();
        var argumentNames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var placeholder in template.Placeholders)
        {
            CheckPlaceholder(endpoint, action, name, template, placeholder, argumentNames, errors);
        }

        // Every contention intent answers with the contention status (a request cannot be dropped silently); Skip and
        // Reschedule only change the unset timeout to a single try, as on every host.
        TimeSpan timeout = _options.DefaultTimeout;
        try
        {
            timeout = declaration.WaitTimeout
                ?? (declaration.OnContention is LockContention.Skip or LockContention.Reschedule ? TimeSpan.Zero : _options.DefaultTimeout);
        }
        catch (FormatException ex)
        {
            errors.Add($"Endpoint '{name}': {ex.Message}");
        }

        try
        {
            LockRequest.Validate(declaration.MaxConcurrency, declaration.Access, $"Endpoint '{name}':");
        }
        catch (FormatException ex)
        {
            errors.Add(ex.Message);
        }

        var response = endpoint.Metadata.GetMetadata<DistributedLockResponseAttribute>();
        var status = response is { ContentionStatusCode: not 0 } ? response.ContentionStatusCode : _options.ContentionStatusCode;
        if (status is < 400 or > 599)
        {
            errors.Add($"Endpoint '{name}': [DistributedLockResponse] ContentionStatusCode must be a 4xx or 5xx status code; got {status}.");
        }

        return errors.Count > start ? null : new EndpointLockPlan(
            template,
            timeout,
            status,
            response?.ExposeFencingTokenHeader == true || _options.ExposeFencingTokenHeader,
            response?.OnContention ?? _options.OnContention,
            argumentNames)
        {
            MaxConcurrency = declaration.MaxConcurrency,
            Access = declaration.Access,
        };
    }

    private static void CheckPlaceholder(Endpoint endpoint, ControllerActionDescriptor? action, string name, KeyTemplate template, KeyPlaceholder placeholder, Dictionary<string, string> argumentNames, List<string> errors)
    {
        var isRouteValue = endpoint is RouteEndpoint r && placeholder.MemberPath.Count == 0 && HasRouteValue(r, placeholder.Name);
        if (placeholder.Source.Length == 0 && !isRouteValue && action?.Parameters.FirstOrDefault(p => string.Equals(p.Name, placeholder.RootName, StringComparison.Ordinal)) is { } parameter)
        {
            // An MVC action argument: the lock is taken by the action filter, after model binding. Names and member
            // paths match exactly, as for jobs and methods (KeyMemberPath).
            if (KeyMemberPath.TryResolveType(parameter.ParameterType, placeholder.MemberPath, out var missing, out _))
            {
                argumentNames[placeholder.Name] = parameter.Name;
            }
            else
            {
                errors.Add($"Endpoint '{name}': distributed lock key template '{template.Template}' uses {placeholder.Text}, but parameter '{parameter.Name}' ({parameter.ParameterType.Name}) has no public property or field '{missing}' on that path.");
            }

            return;
        }

        switch (placeholder.Source)
        {
            case "" or PlaceholderSources.Route:
                if (placeholder.MemberPath.Count > 0)
                {
                    errors.Add($"Endpoint '{name}': distributed lock key template '{template.Template}' uses {placeholder.Text}, a member path, but the endpoint has no MVC action parameter '{placeholder.RootName}'; minimal-API endpoints fill keys from route values, {{query:name}}, {{header:Name}} and {{claim:type}} (their arguments are bound after the lock is taken).");
                }
                else if (endpoint is RouteEndpoint route && !HasRouteValue(route, placeholder.Name))
                {
                    var known = RouteValueNames(route);
                    errors.Add($"Endpoint '{name}': distributed lock key template '{template.Template}' uses {placeholder.Text}, but the route '{route.RoutePattern.RawText}' has no route value '{placeholder.Name}' (it has: {(known.Count == 0 ? "none" : string.Join(", ", known))}). Use {{query:{placeholder.Name}}}, {{header:Name}} or {{claim:type}} for other request values, or name a parameter of a controller action.");
                }

                break;
            case PlaceholderSources.Query or PlaceholderSources.Header or PlaceholderSources.Claim:
                break;
            default:
                errors.Add($"Endpoint '{name}': distributed lock key template '{template.Template}' uses {placeholder.Text} with the unknown source '{placeholder.Source}'; use route (the default), query, header or claim.");
                break;
        }
    }

    private static bool HasRouteValue(RouteEndpoint route, string name) =>
        route.RoutePattern.GetParameter(name) is not null
        || route.RoutePattern.RequiredValues.ContainsKey(name)
        || route.RoutePattern.Defaults.ContainsKey(name);

    private static List<string> RouteValueNames(RouteEndpoint route) =>
        route.RoutePattern.Parameters.Select(p => p.Name)
            .Concat(route.RoutePattern.RequiredValues.Keys)
            .Concat(route.RoutePattern.Defaults.Keys)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();

    private static IDistributedLockMetadata? FindDeclaration(Endpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        for (var i = metadata.Count - 1; i >= 0; i--)
        {
            switch (metadata[i])
            {
                case DisableDistributedLockAttribute:
                    return null;
                case IDistributedLockMetadata declared:
                    return declared;
            }
        }

        return null;
    }

    private sealed class Entry(EndpointLockPlan? plan)
    {
        public EndpointLockPlan? Plan { get; } = plan;
    }
}
