namespace Appliance.Approvals;

/// <summary>
/// An approval given ahead of time, for one target: bound to a statement fingerprint or to a claim value
/// (a pipeline run id), for a limited time and number of uses. It counts as one approval by its author.
/// </summary>
public sealed class PreApproval
{
    public string Id { get; set; } = "";
    public string Target { get; set; } = "";
    public string? Fingerprint { get; set; }
    public string? ClaimName { get; set; }
    public string? ClaimValue { get; set; }
    public int Uses { get; set; }
    public int Used { get; set; }
    public DateTimeOffset Created { get; set; }
    public DateTimeOffset Expires { get; set; }
    public string By { get; set; } = "";
    public string ByIssuer { get; set; } = "";
    public List<string> ByRoles { get; set; } = [];
    public string? Reason { get; set; }
    public bool Revoked { get; set; }

    public bool IsUsable(DateTimeOffset now) => !Revoked && Used < Uses && now < Expires;

    public PreApproval Snapshot() => (PreApproval)MemberwiseClone();
}
