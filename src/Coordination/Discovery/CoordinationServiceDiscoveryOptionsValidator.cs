using Microsoft.Extensions.Options;

namespace Coordination.Discovery;

/// <summary>Validates <see cref="CoordinationServiceDiscoveryOptions"/> at startup; messages name the option and the bad value.</summary>
internal sealed class CoordinationServiceDiscoveryOptionsValidator : IValidateOptions<CoordinationServiceDiscoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, CoordinationServiceDiscoveryOptions options)
    {
        var errors = new List<string>();
        if (options.ColdLookupTimeout <= TimeSpan.Zero || options.ColdLookupTimeout > TimeSpan.FromMinutes(1))
        {
            errors.Add($"CoordinationServiceDiscoveryOptions.ColdLookupTimeout '{options.ColdLookupTimeout}' must be positive and at most 00:01:00.");
        }

        if (!Enum.IsDefined(options.LoadBalancing))
        {
            errors.Add($"CoordinationServiceDiscoveryOptions.LoadBalancing has the unknown value '{options.LoadBalancing}'; use RoundRobin or Random.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
