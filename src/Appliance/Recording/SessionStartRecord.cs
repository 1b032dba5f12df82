namespace Appliance.Recording;

/// <summary>Who connected, to what, from where.</summary>
public sealed record SessionStartRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, string Subject, string Issuer,
    IReadOnlyList<string> Roles, string ClaimsDigest, string Target, string TargetKind, string ClientAddress, string TlsProtocol)
    : RecordedEvent(SessionId, Sequence, Time);
