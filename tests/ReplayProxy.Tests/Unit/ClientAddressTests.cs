namespace ReplayProxy.Tests.Unit;

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData(" 203.0.113.9 ", "203.0.113.9")]
    [InlineData("203.0.113.9:4711", "203.0.113.9")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    public void Parses_one_address_with_or_without_a_port(string value, string expected)
    {
        Assert.True(ClientAddress.TryParse(value, out var address));
        Assert.Equal(expected, address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("203.0.113.9, 6.6.6.6")]
    [InlineData("evil.example")]
    [InlineData("203.0.113.9:port")]
    [InlineData("203.0.113.9:70000")]
    [InlineData("[2001:db8::1")]
    [InlineData("[2001:db8::1]x")]
    [InlineData("1.2.3.4\r\nX-Injected: 1")]
    public void Refuses_anything_else(string value) => Assert.False(ClientAddress.TryParse(value, out _));
}
