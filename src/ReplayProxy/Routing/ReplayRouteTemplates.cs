namespace ReplayProxy;

/// <summary>
/// Route templates of the proxy, without a leading slash so that Azure Functions <c>Route =</c> can use them
/// (the Functions host's route prefix is empty). Paths are exactly what the Amplitude SDKs request.
/// </summary>
public static class ReplayRouteTemplates
{
    public const string Track = "sessions/v2/track";
    public const string Config = "config";
    /// <summary>Catch-all form of <see cref="Config"/>; it also matches <c>/config</c> itself.</summary>
    public const string ConfigWithKey = "config/{*rest}";
    public const string HttpApi = "2/httpapi";
    public const string Batch = "batch";
    public const string Health = "healthz";
    /// <summary>Self-diagnosis: each upstream host checked, and a secret-free settings summary.</summary>
    public const string UpstreamHealth = "healthz/upstreams";
}
