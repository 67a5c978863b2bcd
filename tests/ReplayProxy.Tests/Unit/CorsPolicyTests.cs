using Microsoft.Extensions.Primitives;

namespace ReplayProxy.Tests.Unit;

public sealed class CorsPolicyTests
{
    [Fact]
    public void Requested_headers_are_echoed_lower_case_keeping_only_tokens()
    {
        var requested = new StringValues(["Content-Type, Authorization", "X-Client-Url,,bad header, x\"quote"]);

        Assert.Equal("content-type, authorization, x-client-url", CorsPolicy.RequestedHeaders(requested));
    }

    [Fact]
    public void Nothing_requested_echoes_nothing() => Assert.Equal(string.Empty, CorsPolicy.RequestedHeaders(StringValues.Empty));
}
