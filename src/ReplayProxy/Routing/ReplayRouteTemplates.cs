namespace ReplayProxy;

/// <summary>
/// Route templates of the proxy, without a leading slash so that Azure Functions <c>Route =</c> can use them
/// (the Functions host's route prefix is empty). Paths are exactly what the Amplitude SDKs request, optionally under
/// a region prefix (<c>eu/</c>, <c>us/</c>) that selects the Amplitude region and is not forwarded.
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

    public const string EuPrefix = "eu/";
    public const string EuTrack = EuPrefix + Track;
    public const string EuConfig = EuPrefix + Config;
    public const string EuConfigWithKey = EuPrefix + ConfigWithKey;
    public const string EuHttpApi = EuPrefix + HttpApi;
    public const string EuBatch = EuPrefix + Batch;

    public const string UsPrefix = "us/";
    public const string UsTrack = UsPrefix + Track;
    public const string UsConfig = UsPrefix + Config;
    public const string UsConfigWithKey = UsPrefix + ConfigWithKey;
    public const string UsHttpApi = UsPrefix + HttpApi;
    public const string UsBatch = UsPrefix + Batch;
}
