using Microsoft.AspNetCore.Http;

namespace ReplayProxy.Tests.Unit;

/// <summary>The one matcher both hosts use, at default and operator-chosen paths, and the rules for those paths.</summary>
public sealed class RouteTableTests
{
    private static readonly ReplayRouteTable Custom = new(new ReplayPathOptions
    {
        Track = "/r/t",
        Config = "/c",
        HttpApi = "/e",
        Batch = "/b",
        Legacy = "/f",
    });

    [Theory]
    [InlineData("/", ReplayRouteKind.Legacy, null)]
    [InlineData("", ReplayRouteKind.Legacy, null)]
    [InlineData("/sessions/v2/track", ReplayRouteKind.Track, null)]
    [InlineData("/Sessions/V2/Track/", ReplayRouteKind.Track, null)]
    [InlineData("/config", ReplayRouteKind.Config, null)]
    [InlineData("/config/", ReplayRouteKind.Config, null)]
    [InlineData("/config/key/more", ReplayRouteKind.Config, null)]
    [InlineData("/2/httpapi", ReplayRouteKind.HttpApi, null)]
    [InlineData("/batch", ReplayRouteKind.Batch, null)]
    [InlineData("/healthz", ReplayRouteKind.Health, null)]
    [InlineData("/healthz/upstreams", ReplayRouteKind.UpstreamHealth, null)]
    [InlineData("/eu", ReplayRouteKind.Legacy, "EU")]
    [InlineData("/eu/", ReplayRouteKind.Legacy, "EU")]
    [InlineData("/US/", ReplayRouteKind.Legacy, "US")]
    [InlineData("/eu/sessions/v2/track", ReplayRouteKind.Track, "EU")]
    [InlineData("/us/config/key", ReplayRouteKind.Config, "US")]
    [InlineData("/Eu/batch", ReplayRouteKind.Batch, "EU")]
    public void Default_paths_match(string path, ReplayRouteKind kind, string? region)
    {
        var route = ReplayRouteTable.Default.Match(new PathString(path.Length == 0 ? null : path));

        Assert.NotNull(route);
        Assert.Equal(kind, route.Kind);
        Assert.Equal(region, route.Region);
    }

    [Theory]
    [InlineData("/configx")]
    [InlineData("/batch//")]
    [InlineData("/eu/healthz")]
    [InlineData("/eu/eu/batch")]
    [InlineData("/xx/batch")]
    [InlineData("/eux")]
    [InlineData("//")]
    [InlineData("/sessions/v2")]
    public void Other_default_paths_do_not_match(string path) => Assert.Null(ReplayRouteTable.Default.Match(new PathString(path)));

    [Theory]
    [InlineData("/r/t", ReplayRouteKind.Track, null)]
    [InlineData("/c/key", ReplayRouteKind.Config, null)]
    [InlineData("/e", ReplayRouteKind.HttpApi, null)]
    [InlineData("/b", ReplayRouteKind.Batch, null)]
    [InlineData("/f", ReplayRouteKind.Legacy, null)]
    [InlineData("/eu/r/t", ReplayRouteKind.Track, "EU")]
    [InlineData("/us/c/key", ReplayRouteKind.Config, "US")]
    [InlineData("/eu/f", ReplayRouteKind.Legacy, "EU")]
    [InlineData("/healthz", ReplayRouteKind.Health, null)]
    public void Custom_paths_match(string path, ReplayRouteKind kind, string? region)
    {
        var route = Custom.Match(new PathString(path));

        Assert.NotNull(route);
        Assert.Equal(kind, route.Kind);
        Assert.Equal(region, route.Region);
    }

    [Theory]
    [InlineData("/sessions/v2/track")]
    [InlineData("/config/key")]
    [InlineData("/2/httpapi")]
    [InlineData("/batch")]
    [InlineData("/")]
    [InlineData("/eu/")]
    [InlineData("/eu/batch")]
    public void A_renamed_routes_default_path_is_not_matched(string path) => Assert.Null(Custom.Match(new PathString(path)));

    [Theory]
    [InlineData("/c/k%2Fx", "/config/k%2Fx")]
    [InlineData("/eu/c/key", "/config/key")]
    [InlineData("/EU/C/key/", "/config/key/")]
    [InlineData("/c", "/config")]
    [InlineData("/r/t", "/sessions/v2/track")]
    [InlineData("/eu/f/", "/")]
    [InlineData("/e", "/2/httpapi")]
    public void Amplitude_receives_its_own_path(string path, string upstream)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = PathString.FromUriComponent(path);
        var route = Custom.Match(context.Request.Path)!;

        Assert.Equal(upstream, route.UpstreamPath(context.Request));
    }

    [Theory]
    [InlineData("Track", "sessions")]
    [InlineData("Track", "/a?b")]
    [InlineData("Track", "/a%20b")]
    [InlineData("Track", "/a/")]
    [InlineData("Track", "/a//b")]
    [InlineData("Track", "/a/../b")]
    [InlineData("Track", "/")]
    [InlineData("Config", "/")]
    [InlineData("Batch", "/healthz")]
    [InlineData("Batch", "/healthz/x")]
    [InlineData("HttpApi", "/eu")]
    [InlineData("HttpApi", "/US/x")]
    [InlineData("Legacy", "/admin")]
    [InlineData("Legacy", "/runtime/x")]
    [InlineData("Track", "/config/x")]
    [InlineData("Track", "")]
    public void Bad_paths_fail_at_start_naming_the_setting(string name, string path)
    {
        var options = new ReplayPathOptions();
        typeof(ReplayPathOptions).GetProperty(name)!.SetValue(options, path);

        var errors = Errors(options);

        Assert.Contains(errors, e => e.Contains("ReplayProxy:Paths:" + name, StringComparison.Ordinal));
    }

    [Fact]
    public void Two_routes_on_one_path_fail_naming_both()
    {
        var error = Assert.Single(Errors(new ReplayPathOptions { Track = "/x", Batch = "/X" }));

        Assert.Contains("ReplayProxy:Paths:Track", error, StringComparison.Ordinal);
        Assert.Contains("ReplayProxy:Paths:Batch", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_and_unremarkable_paths_are_valid()
    {
        Assert.Empty(Errors(new ReplayPathOptions()));
        Assert.Empty(Errors(new ReplayPathOptions { Track = "/r/t", Config = "/c", HttpApi = "/e", Batch = "/b", Legacy = "/f" }));
    }

    private static IReadOnlyList<string> Errors(ReplayPathOptions paths)
    {
        var result = new ReplayProxyOptionsValidator().Validate(null, new ReplayProxyOptions { Paths = paths });
        return result.Failed ? result.Failures!.ToList() : [];
    }
}
