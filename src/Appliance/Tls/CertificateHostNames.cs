using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Tls;

/// <summary>The subject alternative names a generated server certificate must carry: the defaults plus configured names.</summary>
internal sealed class CertificateHostNames
{
    private const int MaxDnsNameLength = 253;
    private const int MaxLabelLength = 63;

    private readonly SortedSet<string> _dnsNames = new(StringComparer.Ordinal);
    private readonly List<IPAddress> _addresses = [];

    private CertificateHostNames(string commonName)
    {
        CommonName = commonName;
    }

    /// <summary>The subject CN: the first configured DNS name, else the machine name, else "localhost".</summary>
    public string CommonName { get; }

    /// <summary>Defaults (localhost, 127.0.0.1, ::1, the machine name when it is a valid DNS name) plus <paramref name="extraHostNames"/>.</summary>
    /// <exception cref="ArgumentException">An extra name is neither an IP address nor a valid DNS name.</exception>
    public static CertificateHostNames Create(IEnumerable<string> extraHostNames)
    {
        var extraDns = new List<string>();
        var extraAddresses = new List<IPAddress>();
        foreach (string name in extraHostNames)
        {
            if (TryParseAddress(name, out IPAddress? address))
            {
                extraAddresses.Add(address);
            }
            else if (TryNormalizeDnsName(name, out string? dnsName))
            {
                extraDns.Add(dnsName);
            }
            else
            {
                throw new ArgumentException($"'{name}' is neither an IP address nor a valid DNS name for a certificate.", nameof(extraHostNames));
            }
        }

        string? machine = TryNormalizeDnsName(Environment.MachineName, out string? machineName) ? machineName : null;
        var names = new CertificateHostNames(extraDns.FirstOrDefault() ?? machine ?? "localhost");
        names._dnsNames.Add("localhost");
        if (machine is not null)
        {
            names._dnsNames.Add(machine);
        }

        names._dnsNames.UnionWith(extraDns);
        names.AddAddress(IPAddress.Loopback);
        names.AddAddress(IPAddress.IPv6Loopback);
        foreach (IPAddress address in extraAddresses)
        {
            names.AddAddress(address);
        }

        return names;
    }

    /// <summary>True when <paramref name="certificate"/>'s SAN extension holds every name of this set.</summary>
    public bool AreCoveredBy(X509Certificate2 certificate)
    {
        X509SubjectAlternativeNameExtension? san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var dnsNames = new HashSet<string>(san.EnumerateDnsNames(), StringComparer.OrdinalIgnoreCase);
        var addresses = new HashSet<IPAddress>(san.EnumerateIPAddresses());
        return _dnsNames.All(dnsNames.Contains) && _addresses.All(addresses.Contains);
    }

    /// <summary>The SAN extension listing every name.</summary>
    public X509Extension ToExtension()
    {
        var builder = new SubjectAlternativeNameBuilder();
        foreach (string dnsName in _dnsNames)
        {
            builder.AddDnsName(dnsName);
        }

        foreach (IPAddress address in _addresses)
        {
            builder.AddIpAddress(address);
        }

        return builder.Build(critical: false);
    }

    private void AddAddress(IPAddress address)
    {
        if (!_addresses.Contains(address))
        {
            _addresses.Add(address);
        }
    }

    // Only unambiguous literals: IPAddress.TryParse also takes "1" or "0x7f.1", which are meant as host names here.
    private static bool TryParseAddress(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (!IPAddress.TryParse(text, out IPAddress? parsed))
        {
            return false;
        }

        bool literal = parsed.AddressFamily switch
        {
            AddressFamily.InterNetworkV6 => parsed.ScopeId == 0 && !text.Contains('%', StringComparison.Ordinal),
            AddressFamily.InterNetwork => parsed.ToString() == text,
            _ => false,
        };
        if (literal)
        {
            address = parsed;
        }

        return literal;
    }

    // ASCII host names (letters, digits, '-', '_'), an optional leading "*." wildcard, lowercased, trailing dot dropped.
    private static bool TryNormalizeDnsName(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        string name = text.EndsWith('.') ? text[..^1] : text;
        if (name.Length is 0 or > MaxDnsNameLength)
        {
            return false;
        }

        string[] labels = name.Split('.');
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            if (i == 0 && label == "*" && labels.Length > 2)
            {
                continue;
            }

            if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (char c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                {
                    return false;
                }
            }
        }

        normalized = name.ToLowerInvariant();
        return true;
    }
}
