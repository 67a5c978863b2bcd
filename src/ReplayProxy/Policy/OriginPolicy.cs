using System.Collections.Frozen;

namespace ReplayProxy;

/// <summary>Exact-match origin allow-list; empty allows any origin.</summary>
internal sealed class OriginPolicy(IEnumerable<string> origins)
{
    private readonly FrozenSet<string> _origins = origins.ToFrozenSet(StringComparer.Ordinal);

    public bool AllowsAny => _origins.Count == 0;

    public bool Allows(string origin) => AllowsAny || _origins.Contains(origin);

    /// <summary>An origin as a browser serializes it: scheme://host[:port], nothing after.</summary>
    public static bool IsWellFormedOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && string.IsNullOrEmpty(uri.UserInfo)
        && !origin.Contains('*', StringComparison.Ordinal)
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.OrdinalIgnoreCase);
}
