namespace ReplayProxy;

/// <summary>Which Amplitude host a route forwards to.</summary>
public enum UpstreamKind
{
    None,
    Replay,
    Config,
    Analytics,
}
