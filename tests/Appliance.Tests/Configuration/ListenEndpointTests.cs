using System.Net;
using Appliance.Configuration;

namespace Appliance.Tests.Configuration;

public sealed class ListenEndpointTests
{
    [Theory]
    [InlineData("0.0.0.0:5432", "0.0.0.0", 5432)]
    [InlineData("127.0.0.1:1", "127.0.0.1", 1)]
    [InlineData("10.1.2.3:65535", "10.1.2.3", 65535)]
    [InlineData("localhost:8080", "127.0.0.1", 8080)]
    [InlineData("LocalHost:8080", "127.0.0.1", 8080)]
    [InlineData("[::1]:5432", "::1", 5432)]
    [InlineData("[::]:6432", "::", 6432)]
    [InlineData("[2001:db8::7]:443", "2001:db8::7", 443)]
    public void TryParse_ValidAddress_ReturnsEndpoint(string text, string address, int port)
    {
        Assert.True(ListenEndpoint.TryParse(text, out var endpoint, out var error), error);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), endpoint);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("", "expected host:port")]
    [InlineData(null, "expected host:port")]
    [InlineData("127.0.0.1", "missing port in '127.0.0.1'")]
    [InlineData(":5432", "missing host")]
    [InlineData("127.0.0.1:", "port must be a number from 1 to 65535, got ''")]
    [InlineData("127.0.0.1:0", "got '0'")]
    [InlineData("127.0.0.1:65536", "got '65536'")]
    [InlineData("127.0.0.1:+80", "got '+80'")]
    [InlineData("127.0.0.1:http", "got 'http'")]
    [InlineData("127.1:5432", "host must be an IPv4 address")]
    [InlineData("0x7f.0.0.1:5432", "host must be an IPv4 address")]
    [InlineData("256.0.0.1:5432", "host must be an IPv4 address")]
    [InlineData("1.2.3.4.5:5432", "host must be an IPv4 address")]
    [InlineData("db.example.com:5432", "got 'db.example.com'")]
    [InlineData("::1:5432", "IPv6 addresses need brackets")]
    [InlineData("[::1]5432", "expected [IPv6]:port")]
    [InlineData("[::1]", "expected [IPv6]:port")]
    [InlineData("[127.0.0.1]:5432", "'127.0.0.1' is not an IPv6 address")]
    [InlineData("[::1]:99999", "got '99999'")]
    public void TryParse_InvalidAddress_ReturnsError(string? text, string errorFragment)
    {
        Assert.False(ListenEndpoint.TryParse(text, out var endpoint, out var error));
        Assert.Null(endpoint);
        Assert.Contains(errorFragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_ControlCharacters_AreEscapedInError()
    {
        Assert.False(ListenEndpoint.TryParse("bad\nhost:1", out _, out var error));
        Assert.Contains("'bad\\nhost'", error, StringComparison.Ordinal);
    }
}
