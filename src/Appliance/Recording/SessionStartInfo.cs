namespace Appliance.Recording;

/// <summary>What the session hook knows when a session starts (after authentication and target resolution).</summary>
public sealed class SessionStartInfo
{
    /// <summary>The session's id; a new time-ordered id when left empty.</summary>
    public Guid SessionId { get; init; }
    public required string Subject { get; init; }
    public string Issuer { get; init; } = "";
    public IReadOnlyList<string> Roles { get; init; } = [];
    public string ClaimsDigest { get; init; } = "";
    public required string Target { get; init; }
    public string TargetKind { get; init; } = "postgres";
    /// <summary>The client's address and port, e.g. <c>10.0.0.5:51234</c>.</summary>
    public string ClientAddress { get; init; } = "";
    /// <summary>The negotiated TLS protocol (<c>Tls13</c>), or empty for plain TCP.</summary>
    public string TlsProtocol { get; init; } = "";
}
