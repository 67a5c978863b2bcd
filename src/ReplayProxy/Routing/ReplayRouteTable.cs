using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>
/// The routes a host serves, at the public paths of <c>ReplayProxy:Paths</c>, and the one matcher both hosts use: the
/// standalone host maps a catch-all to it, the Functions app has one catch-all trigger. Paths match
/// case-insensitively with at most one trailing slash; a proxied route also matches under <c>/eu</c> or <c>/us</c>,
/// which pins its region. Health has no prefixed form.
/// </summary>
public sealed class ReplayRouteTable
{
    /// <summary>The Functions trigger's route: everything, so that this table alone decides.</summary>
    public const string CatchAllTemplate = "{*path}";

    private readonly ReplayRoute[] _unprefixed;
    private readonly Dictionary<(ReplayRouteKind, string), ReplayRoute> _regional = [];

    public ReplayRouteTable(ReplayPathOptions paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _unprefixed =
        [
            ReplayRoute.Health,
            ReplayRoute.UpstreamHealth,
            ReplayRoute.Track.At(paths.Track),
            ReplayRoute.Config.At(paths.Config),
            ReplayRoute.HttpApi.At(paths.HttpApi),
            ReplayRoute.Batch.At(paths.Batch),
            ReplayRoute.Legacy.At(paths.Legacy),
        ];
        foreach (var route in _unprefixed.Where(r => r.Upstream != UpstreamKind.None))
        {
            foreach (var region in AmplitudeRegion.All)
            {
                _regional[(route.Kind, region)] = route.InRegion(region);
            }
        }

        All = [.. _unprefixed, .. _regional.Values];
    }

    public static ReplayRouteTable Default { get; } = new(new ReplayPathOptions());

    /// <summary>Every row, unprefixed first.</summary>
    public IReadOnlyList<ReplayRoute> All { get; }

    /// <summary>The row of <paramref name="kind"/>, pinned to <paramref name="region"/> when given.</summary>
    public ReplayRoute Get(ReplayRouteKind kind, string? region = null) =>
        region is null ? _unprefixed.First(r => r.Kind == kind) : _regional[(kind, region)];

    /// <summary>The row that answers <paramref name="path"/>, or null (404).</summary>
    public ReplayRoute? Match(PathString path)
    {
        var value = path.Value;
        if (string.IsNullOrEmpty(value))
        {
            value = "/";
        }

        if (MatchUnprefixed(value) is { } route)
        {
            return route;
        }

        foreach (var region in AmplitudeRegion.All)
        {
            // "/eu" itself, or "/eu/...": the rest is matched as an unprefixed path ("/eu" and "/eu/" are the root).
            if (value.Length >= 3 && value.AsSpan(1, 2).Equals(region, StringComparison.OrdinalIgnoreCase)
                && (value.Length == 3 || value[3] == '/')
                && MatchUnprefixed(value.Length == 3 ? "/" : value[3..]) is { Upstream: not UpstreamKind.None } prefixed)
            {
                return _regional[(prefixed.Kind, region)];
            }
        }

        return null;
    }

    private ReplayRoute? MatchUnprefixed(string path)
    {
        var exact = path.Length > 1 && path[^1] == '/' && path[^2] != '/' ? path[..^1] : path;
        ReplayRoute? tail = null;
        foreach (var route in _unprefixed)
        {
            if (exact.Equals(route.PublicPath, StringComparison.OrdinalIgnoreCase))
            {
                return route;
            }

            if (route.HasTail && path.Length > route.PublicPath.Length + 1 && path[route.PublicPath.Length] == '/'
                && path.StartsWith(route.PublicPath, StringComparison.OrdinalIgnoreCase))
            {
                tail = route;
            }
        }

        return tail;
    }
}
