namespace ReplayProxy;

/// <summary>What a route is, whatever public path the operator gave it and whichever region prefix it came under.</summary>
public enum ReplayRouteKind
{
    Track,
    Config,
    HttpApi,
    Batch,
    Legacy,
    Health,
    UpstreamHealth,
}
