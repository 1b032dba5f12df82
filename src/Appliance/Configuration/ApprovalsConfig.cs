namespace Appliance.Configuration;

/// <summary>The <c>approvals:</c> section: where requests are kept, how many may wait, and who is told.</summary>
public sealed class ApprovalsConfig
{
    /// <summary>Where requests and pre-approvals are persisted; null for <c>state_dir/approvals</c>.</summary>
    public string? Dir { get; set; }
    /// <summary>Requests waiting at once, over every principal; a new one beyond it is refused.</summary>
    public int MaxPending { get; set; } = 1000;
    /// <summary>Requests one principal (subject) may have waiting at once.</summary>
    public int MaxPendingPerPrincipal { get; set; } = 10;
    /// <summary>How long a request waits when its rule sets no <c>timeout</c>.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>How long decided requests stay listed (and on disk) after their decision.</summary>
    public TimeSpan KeepDecided { get; set; } = TimeSpan.FromHours(24);
    public WebhookConfig? Webhook { get; set; }
    /// <summary>Upper bound on a pre-approval's number of uses.</summary>
    public int PreApprovalMaxUses { get; set; } = 100;
    /// <summary>Upper bound on a pre-approval's lifetime.</summary>
    public TimeSpan PreApprovalMaxTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The approvals directory for a configuration whose state directory is <paramref name="stateDir"/>.</summary>
    public string Directory(string stateDir) => Dir ?? Path.Combine(stateDir, "approvals");
}

/// <summary>A POST announcing each new request, signed with HMAC-SHA256, retried with exponential backoff.</summary>
public sealed class WebhookConfig
{
    public string Url { get; set; } = "";
    /// <summary>File holding the HMAC key; null sends unsigned requests.</summary>
    public string? SecretFile { get; set; }
    /// <summary>Delivery attempts in all (the first one included).</summary>
    public int Attempts { get; set; } = 5;
    /// <summary>Wait before the second attempt; doubled for each one after.</summary>
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How long one attempt may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
