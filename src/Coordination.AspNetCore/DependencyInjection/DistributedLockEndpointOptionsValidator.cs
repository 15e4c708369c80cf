using Microsoft.Extensions.Options;

namespace Coordination.AspNetCore.DependencyInjection;

/// <summary>Rejects options that would make locked endpoints misbehave, naming the option and the bad value.</summary>
internal sealed class DistributedLockEndpointOptionsValidator : IValidateOptions<DistributedLockEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, DistributedLockEndpointOptions options)
    {
        var failures = new List<string>();
        if (options.DefaultTimeout < TimeSpan.Zero && options.DefaultTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{nameof(DistributedLockEndpointOptions)}.{nameof(options.DefaultTimeout)} must be zero, positive or infinite; got {options.DefaultTimeout}.");
        }

        if (options.ContentionStatusCode is < 400 or > 599)
        {
            failures.Add($"{nameof(DistributedLockEndpointOptions)}.{nameof(options.ContentionStatusCode)} must be a 4xx or 5xx status code; got {options.ContentionStatusCode}.");
        }

        if (options.UnavailableStatusCode is < 500 or > 599)
        {
            failures.Add($"{nameof(DistributedLockEndpointOptions)}.{nameof(options.UnavailableStatusCode)} must be a 5xx status code; got {options.UnavailableStatusCode}.");
        }

        if (options.RetryAfter is { } r && r < TimeSpan.Zero)
        {
            failures.Add($"{nameof(DistributedLockEndpointOptions)}.{nameof(options.RetryAfter)} must not be negative; got {r}.");
        }

        if (string.IsNullOrWhiteSpace(options.FencingTokenHeaderName))
        {
            failures.Add($"{nameof(DistributedLockEndpointOptions)}.{nameof(options.FencingTokenHeaderName)} must not be empty; got '{options.FencingTokenHeaderName}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
