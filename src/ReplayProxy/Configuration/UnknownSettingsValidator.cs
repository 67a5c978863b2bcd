using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ReplayProxy;

/// <summary>
/// Refuses keys under the <c>ReplayProxy</c> section that no setting reads (<c>ReplayProxy__Regoin=EU</c> would
/// otherwise be ignored without a word). <c>UpstreamHeaders</c> holds header names of the user's choosing, or list
/// entries with <c>Name</c> and <c>Value</c>.
/// </summary>
internal sealed class UnknownSettingsValidator(IConfiguration section) : IValidateOptions<ReplayProxyOptions>
{
    private const string AnyChild = "*";

    /// <summary>The settings of <see cref="ReplayProxyOptions"/>; a null value is a leaf.</summary>
    private static readonly Dictionary<string, string[]?> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(ReplayProxyOptions.Region)] = null,
        [nameof(ReplayProxyOptions.Upstreams)] = typeof(UpstreamOverrides).GetProperties().Select(p => p.Name).ToArray(),
        [nameof(ReplayProxyOptions.AllowedOrigins)] = null,
        [nameof(ReplayProxyOptions.AllowedApiKeys)] = null,
        [nameof(ReplayProxyOptions.FrontDoorId)] = null,
        [nameof(ReplayProxyOptions.UpstreamTimeoutSeconds)] = null,
        [nameof(ReplayProxyOptions.MaxRequestBodyBytes)] = null,
        [nameof(ReplayProxyOptions.ConfigDeadlineMilliseconds)] = null,
        [nameof(ReplayProxyOptions.ConfigStaleLimitSeconds)] = null,
        [nameof(ReplayProxyOptions.ConfigMemoryEntries)] = null,
        [nameof(ReplayProxyOptions.Paths)] = typeof(ReplayPathOptions).GetProperties().Select(p => p.Name).ToArray(),
        [nameof(ReplayProxyOptions.AllowSdkDiagnostics)] = null,
        [nameof(ReplayProxyOptions.UpstreamHeaders)] = [AnyChild],
        [nameof(ReplayProxyOptions.Spool)] = typeof(SpoolOptions).GetProperties().Select(p => p.Name).ToArray(),
    };

    public ValidateOptionsResult Validate(string? name, ReplayProxyOptions options)
    {
        var unknown = new List<string>();
        foreach (var setting in section.GetChildren())
        {
            if (!Known.TryGetValue(setting.Key, out var children))
            {
                unknown.Add(setting.Path);
                continue;
            }

            if (children is [AnyChild])
            {
                // Header names of the user's choosing, or list entries (UpstreamHeaders:0:Name and :Value) and nothing deeper.
                foreach (var child in setting.GetChildren())
                {
                    unknown.AddRange(child.GetChildren()
                        .Where(grandchild => !ListedUpstreamHeader.IsListEntry(child)
                            || (!string.Equals(grandchild.Key, ListedUpstreamHeader.NameKey, StringComparison.OrdinalIgnoreCase)
                                && !string.Equals(grandchild.Key, ListedUpstreamHeader.ValueKey, StringComparison.OrdinalIgnoreCase)))
                        .Select(grandchild => grandchild.Path));
                }

                continue;
            }

            foreach (var child in setting.GetChildren())
            {
                if (children is null || !children.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    unknown.Add(child.Path);
                }
            }
        }

        return unknown.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(unknown.Select(path =>
                $"{path} is not a setting of the proxy; check its spelling (settings: {string.Join(", ", Known.Keys)}; Upstreams: {string.Join(", ", Known[nameof(ReplayProxyOptions.Upstreams)]!)}; Spool: {string.Join(", ", Known[nameof(ReplayProxyOptions.Spool)]!)})."));
    }
}
