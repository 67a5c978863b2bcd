using Microsoft.Extensions.Options;

namespace ReplayProxy;

/// <summary>Checks every setting at start; each message names the setting and what it accepts.</summary>
internal sealed class ReplayProxyOptionsValidator : IValidateOptions<ReplayProxyOptions>
{
    public const int MaxUpstreamTimeoutSeconds = 225;

    public ValidateOptionsResult Validate(string? name, ReplayProxyOptions options)
    {
        var errors = new List<string>();
        var section = ReplayProxyOptions.SectionName;

        if (!AmplitudeRegion.IsKnown(options.Region))
        {
            errors.Add($"{section}:Region is '{options.Region}'; allowed values are 'US' and 'EU' (case-insensitive).");
        }

        foreach (var kind in AmplitudeRegion.UpstreamKinds)
        {
            var plain = options.Upstreams.ForDefaultRegion(kind);
            ValidateUpstream(errors, plain.Name, plain.Value);
            foreach (var region in AmplitudeRegion.All)
            {
                var regional = options.Upstreams.ForRegion(region, kind);
                ValidateUpstream(errors, regional.Name, regional.Value);
                if (AmplitudeRegion.IsKnown(options.Region) && AmplitudeRegion.Normalize(options.Region) == region
                    && !string.IsNullOrWhiteSpace(plain.Value) && !string.IsNullOrWhiteSpace(regional.Value))
                {
                    errors.Add($"{section}:Upstreams:{plain.Name} and {section}:Upstreams:{regional.Name} both replace the {region} {plain.Name.ToLowerInvariant()} host (Region is {region}); set only one.");
                }
            }
        }

        foreach (var origin in SettingList.Split(options.AllowedOrigins))
        {
            if (!OriginPolicy.IsWellFormedOrigin(origin))
            {
                errors.Add($"{section}:AllowedOrigins contains '{origin}'; each entry must be an exact origin such as 'https://www.example.com' (scheme, host and optional port; no path, no wildcard).");
            }
        }

        var keys = SettingList.Split(options.AllowedApiKeys);
        if (keys.Length > 1 && keys.Contains(ApiKeys.AnyKey))
        {
            errors.Add($"{section}:AllowedApiKeys mixes '{ApiKeys.AnyKey}' with keys; '{ApiKeys.AnyKey}' accepts any key and must stand alone. List only your keys, or set '{ApiKeys.AnyKey}' alone.");
        }
        else if (keys is not [ApiKeys.AnyKey] && !keys.All(ApiKeys.IsWellFormed))
        {
            errors.Add($"{section}:AllowedApiKeys contains an entry with characters other than letters, digits, '-' and '_' (or is not '{ApiKeys.AnyKey}' alone, which accepts any key).");
        }

        if (!string.IsNullOrWhiteSpace(options.FrontDoorId) && !Guid.TryParse(options.FrontDoorId, out _))
        {
            errors.Add($"{section}:FrontDoorId is '{options.FrontDoorId}'; it must be the Front Door profile's frontDoorId, a GUID, or empty to turn the check off.");
        }

        if (options.UpstreamTimeoutSeconds is < 1 or > MaxUpstreamTimeoutSeconds)
        {
            errors.Add($"{section}:UpstreamTimeoutSeconds is {options.UpstreamTimeoutSeconds}; it must be between 1 and {MaxUpstreamTimeoutSeconds} (Azure caps HTTP responses at 230 s).");
        }

        if (options.MaxRequestBodyBytes < 1)
        {
            errors.Add($"{section}:MaxRequestBodyBytes is {options.MaxRequestBodyBytes}; it must be a positive number of bytes (default {ReplayProxyOptions.DefaultMaxRequestBodyBytes}).");
        }

        ValidateUpstreamHeaders(errors, options);
        ReplayPathRules.Validate(options.Paths, errors);

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateUpstreamHeaders(List<string> errors, ReplayProxyOptions options)
    {
        var prefix = $"{ReplayProxyOptions.SectionName}:{nameof(ReplayProxyOptions.UpstreamHeaders)}";
        // Header name -> the setting that set it: a header given twice would be sent with whichever came last.
        var setBy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (header, value) in options.UpstreamHeaders)
        {
            setBy[header] = $"{prefix}:{header}";
            if (!HeaderPolicy.IsValidExtraUpstreamHeader(header, value, out var problem))
            {
                errors.Add($"{prefix}:{header} {problem}");
            }
        }

        foreach (var entry in options.ListedUpstreamHeaders)
        {
            var name = $"{prefix}:{entry.Index}:{ListedUpstreamHeader.NameKey}";
            var value = $"{prefix}:{entry.Index}:{ListedUpstreamHeader.ValueKey}";
            if (string.IsNullOrEmpty(entry.Name))
            {
                errors.Add($"{name} is missing; a list entry needs both {name} and {value} (environment: {name.Replace(":", "__", StringComparison.Ordinal)}).");
            }
            else if (!HeaderPolicy.IsValidExtraUpstreamHeaderName(entry.Name, out var problem))
            {
                errors.Add($"{name} ('{entry.Name}') {problem}");
            }
            else if (setBy.TryGetValue(entry.Name, out var earlier))
            {
                errors.Add($"{name} sets '{entry.Name}', which {earlier} already sets; give each header once.");
            }
            else
            {
                setBy[entry.Name] = name;
            }

            if (entry.Value is null)
            {
                errors.Add($"{value} is missing; a list entry needs both {name} and {value} (environment: {value.Replace(":", "__", StringComparison.Ordinal)}).");
            }
            else if (!HeaderPolicy.IsValidExtraUpstreamHeaderValue(entry.Value, out var problem))
            {
                errors.Add($"{value} {problem}");
            }
        }
    }

    private static void ValidateUpstream(List<string> errors, string name, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.Query)
            || !string.IsNullOrEmpty(uri.Fragment)
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            errors.Add($"{ReplayProxyOptions.SectionName}:Upstreams:{name} is '{value}'; it must be an absolute http or https base URL such as 'https://api-sr.amplitude.com' (no query, fragment or credentials), or empty to use the region's host.");
        }
    }
}
