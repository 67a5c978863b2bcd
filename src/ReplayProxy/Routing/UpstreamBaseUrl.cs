namespace ReplayProxy;

/// <summary>
/// An upstream's scheme, authority and optional base path. The request contributes only a path that the route
/// already matched and its query; the authority always comes from here.
/// </summary>
internal sealed class UpstreamBaseUrl
{
    private readonly string _prefix;

    public UpstreamBaseUrl(Uri baseUri)
    {
        Host = baseUri.Host;
        Port = baseUri.Port;
        _prefix = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>Scheme, authority and base path, without a trailing slash.</summary>
    public string Prefix => _prefix;

    /// <param name="escapedPath">An escaped absolute path starting with '/'.</param>
    /// <param name="query">The raw query including its '?', or empty.</param>
    public Uri Target(string escapedPath, string? query) => new(string.Concat(_prefix, escapedPath, query), VerbatimUri);

    /// <summary>Path and query go upstream exactly as the client sent them (no unescaping or dot-segment rewriting
    /// by <see cref="Uri"/>); the authority is ours and parsed as usual.</summary>
    private static readonly UriCreationOptions VerbatimUri = new() { DangerousDisablePathAndQueryCanonicalization = true };
}
