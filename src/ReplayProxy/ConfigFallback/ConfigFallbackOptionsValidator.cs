using Microsoft.Extensions.Options;

namespace ReplayProxy.ConfigFallback;

/// <summary>Checks the config fallback's settings at start; each message names the setting and what it accepts.</summary>
internal sealed class ConfigFallbackOptionsValidator : IValidateOptions<ReplayProxyOptions>
{
    public const int MaxConfigMemoryEntries = 100_000;
    public const int MaxConfigStaleLimitSeconds = 30 * 24 * 60 * 60;

    public ValidateOptionsResult Validate(string? name, ReplayProxyOptions options)
    {
        var errors = new List<string>();
        var section = ReplayProxyOptions.SectionName;
        var upstreamMilliseconds = options.UpstreamTimeoutSeconds * 1000L;
        if (options.ConfigDeadlineMilliseconds < 1 || options.ConfigDeadlineMilliseconds > upstreamMilliseconds)
        {
            errors.Add($"{section}:ConfigDeadlineMilliseconds is {options.ConfigDeadlineMilliseconds}; it must be between 1 and UpstreamTimeoutSeconds in milliseconds ({upstreamMilliseconds}); the default {ReplayProxyOptions.DefaultConfigDeadlineMilliseconds} stays below the browser SDK's 1 s.");
        }

        if (options.ConfigStaleLimitSeconds is < 0 or > MaxConfigStaleLimitSeconds)
        {
            errors.Add($"{section}:ConfigStaleLimitSeconds is {options.ConfigStaleLimitSeconds}; it must be between 0 (fallback off) and {MaxConfigStaleLimitSeconds} (30 days); default {ReplayProxyOptions.DefaultConfigStaleLimitSeconds}.");
        }

        if (options.ConfigMemoryEntries is < 1 or > MaxConfigMemoryEntries)
        {
            errors.Add($"{section}:ConfigMemoryEntries is {options.ConfigMemoryEntries}; it must be between 1 and {MaxConfigMemoryEntries} (each entry holds at most {ConfigMemory.MaxEntryBytes / 1024} KiB).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
