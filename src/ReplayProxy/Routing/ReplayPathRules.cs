using System.Buffers;

namespace ReplayProxy;

/// <summary>
/// What <c>ReplayProxy:Paths:*</c> accepts: an absolute path of plain URL characters, one route per path, nothing the
/// matcher or the Functions host would send elsewhere (health, the region prefixes, the host's own <c>/admin</c> and
/// <c>/runtime</c>, a path under the config route's catch-all), and the root only for the form route.
/// </summary>
internal static class ReplayPathRules
{
    private static readonly SearchValues<char> PathChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/");

    /// <summary>Paths that are never the proxy's, with why; a configured path may be neither one of them nor under one.</summary>
    private static readonly (string Path, string Why)[] Reserved =
    [
        (ReplayRoute.HealthPath, "health's"),
        ("/eu", "the EU region prefix"),
        ("/us", "the US region prefix"),
        ("/admin", "reserved by the Azure Functions host"),
        ("/runtime", "reserved by the Azure Functions host"),
    ];

    public static void Validate(ReplayPathOptions paths, List<string> errors)
    {
        var configured = new (string Name, string Path)[]
        {
            (nameof(ReplayPathOptions.Track), paths.Track),
            (nameof(ReplayPathOptions.Config), paths.Config),
            (nameof(ReplayPathOptions.HttpApi), paths.HttpApi),
            (nameof(ReplayPathOptions.Batch), paths.Batch),
            (nameof(ReplayPathOptions.Legacy), paths.Legacy),
        };

        var valid = new List<(string Name, string Path)>();
        foreach (var (name, path) in configured)
        {
            if (Problem(name, path) is { } problem)
            {
                errors.Add($"{Setting(name)} is '{path}'; {problem}");
            }
            else
            {
                valid.Add((name, path));
            }
        }

        for (var i = 0; i < valid.Count; i++)
        {
            for (var j = i + 1; j < valid.Count; j++)
            {
                if (valid[i].Path.Equals(valid[j].Path, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{Setting(valid[i].Name)} and {Setting(valid[j].Name)} are both '{valid[i].Path}'; each route needs a path of its own.");
                }
            }
        }

        if (valid.Find(p => p.Name == nameof(ReplayPathOptions.Config)) is { Path: { } config })
        {
            foreach (var (name, path) in valid)
            {
                if (name != nameof(ReplayPathOptions.Config) && IsUnder(path, config))
                {
                    errors.Add($"{Setting(name)} is '{path}', under {Setting(nameof(ReplayPathOptions.Config))} '{config}', whose '<path>/<api key>' form would take it; choose a path outside it.");
                }
            }
        }
    }

    private static string? Problem(string name, string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/')
        {
            return "it must be an absolute path starting with '/'.";
        }

        if (path.AsSpan().ContainsAnyExcept(PathChars))
        {
            return "it may contain only letters, digits, '-', '.', '_', '~' and '/' (no query, no escapes).";
        }

        if (path == "/")
        {
            return name == nameof(ReplayPathOptions.Legacy) ? null : "the root is the form route's (Paths:Legacy); choose another path.";
        }

        if (path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal) || path.Split('/').Any(segment => segment is "." or ".."))
        {
            return "it must not end with '/' nor contain empty, '.' or '..' segments.";
        }

        foreach (var (reserved, why) in Reserved)
        {
            if (path.Equals(reserved, StringComparison.OrdinalIgnoreCase) || IsUnder(path, reserved))
            {
                return $"'{reserved}' is {why}; choose a path neither on nor under it.";
            }
        }

        return null;
    }

    private static bool IsUnder(string path, string parent) =>
        path.Length > parent.Length && path[parent.Length] == '/' && path.StartsWith(parent, StringComparison.OrdinalIgnoreCase);

    private static string Setting(string name) => $"{ReplayProxyOptions.SectionName}:Paths:{name}";
}
