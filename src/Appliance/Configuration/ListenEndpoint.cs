using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Configuration;

/// <summary>Listen addresses: <c>0.0.0.0:5432</c>, <c>[::1]:5432</c>, <c>localhost:5432</c> (= 127.0.0.1).</summary>
public static class ListenEndpoint
{
    /// <summary>Parses a listen address; on failure <paramref name="error"/> says what is wrong, quoting the input.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endpoint, out string error)
    {
        endpoint = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "expected host:port, e.g. 0.0.0.0:5432";
            return false;
        }

        string host;
        string port;
        IPAddress? address;
        if (text[0] == '[')
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"expected [IPv6]:port, e.g. [::1]:5432, got {ConfigText.Quote(text)}";
                return false;
            }

            host = text[1..close];
            port = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"{ConfigText.Quote(host)} is not an IPv6 address";
                return false;
            }
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                error = $"missing port in {ConfigText.Quote(text)}; expected host:port, e.g. 0.0.0.0:5432";
                return false;
            }

            if (text.IndexOf(':', colon + 1) >= 0)
            {
                error = $"IPv6 addresses need brackets, e.g. [::1]:5432, got {ConfigText.Quote(text)}";
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                address = IPAddress.Loopback;
            }
            else if (!TryParseDottedQuad(host, out address))
            {
                error = host.Length == 0
                    ? $"missing host in {ConfigText.Quote(text)}; use 0.0.0.0:port for all IPv4 addresses or [::]:port for all"
                    : $"host must be an IPv4 address, [IPv6] address or localhost, got {ConfigText.Quote(host)}";
                return false;
            }
        }

        if (port.Length is 0 or > 5 || port.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = $"port must be a number from 1 to 65535, got {ConfigText.Quote(port)}";
            return false;
        }

        var portNumber = int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
        if (portNumber is < 1 or > 65535)
        {
            error = $"port must be a number from 1 to 65535, got {ConfigText.Quote(port)}";
            return false;
        }

        endpoint = new IPEndPoint(address, portNumber);
        error = "";
        return true;
    }

    // IPAddress.TryParse also takes "127.1" and "0x7f.0.0.1"; a listen address should say exactly what it means.
    private static bool TryParseDottedQuad(string host, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        Span<byte> bytes = stackalloc byte[4];
        var parts = 0;
        foreach (var range in host.AsSpan().Split('.'))
        {
            var part = host.AsSpan(range);
            if (parts == 4 || part.Length is 0 or > 3 || part.ContainsAnyExceptInRange('0', '9')
                || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[parts]))
            {
                return false;
            }

            parts++;
        }

        if (parts != 4)
        {
            return false;
        }

        address = new IPAddress(bytes);
        return true;
    }
}
