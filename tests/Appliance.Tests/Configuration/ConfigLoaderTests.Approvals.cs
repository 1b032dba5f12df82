using static Appliance.Tests.Configuration.ConfigTestText;

namespace Appliance.Tests.Configuration;

// The approvals: section.
public sealed partial class ConfigLoaderTests
{
    [Fact]
    public void LoadText_ApprovalsOmitted_StateDirApprovalsWithDefaults()
    {
        var config = LoadValid("state_dir: /srv/gw");
        var approvals = config.Approvals;
        Assert.Equal("/srv/gw/approvals", approvals.Directory(config.StateDir));
        Assert.Equal((1000, 10, TimeSpan.FromMinutes(15), TimeSpan.FromHours(24)),
            (approvals.MaxPending, approvals.MaxPendingPerPrincipal, approvals.DefaultTimeout, approvals.KeepDecided));
        Assert.Null(approvals.Webhook);
    }

    [Fact]
    public void LoadText_ApprovalsEveryKey_IsBound()
    {
        var config = LoadValid("""
            approvals:
              dir: pending
              max_pending: 50
              max_pending_per_principal: 5
              default_timeout: 10m
              keep_decided: 48h
              webhook:
                url: https://hooks.example.com/appliance
                secret_file: secrets/hook
                attempts: 3
                backoff: 2s
                timeout: 5s
              pre_approval: { max_uses: 20, max_ttl: 8h }
            """);
        var a = config.Approvals;
        Assert.Equal(Path.Combine(BaseDirectory, "pending"), a.Dir);
        Assert.Equal((50, 5, TimeSpan.FromMinutes(10), TimeSpan.FromHours(48)), (a.MaxPending, a.MaxPendingPerPrincipal, a.DefaultTimeout, a.KeepDecided));
        Assert.Equal(("https://hooks.example.com/appliance", Path.Combine(BaseDirectory, "secrets/hook"), 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)),
            (a.Webhook!.Url, a.Webhook.SecretFile, a.Webhook.Attempts, a.Webhook.Backoff, a.Webhook.Timeout));
        Assert.Equal((20, TimeSpan.FromHours(8)), (a.PreApprovalMaxUses, a.PreApprovalMaxTtl));
    }

    [Theory]
    [InlineData("approvals:\n  webhook: { url: \"http://hooks.example.com/x\" }", 2, "approvals.webhook.url", "must be https:// unless it is on loopback")]
    [InlineData("approvals:\n  webhook: { url: \"ftp://x\" }", 2, "approvals.webhook.url", "expected an http:// or https:// URL")]
    [InlineData("approvals:\n  webhook: { secret_file: s }", 2, "approvals.webhook.url", "is required")]
    [InlineData("approvals:\n  max_pending: 0", 2, "approvals.max_pending", "must be at least 1")]
    [InlineData("approvals:\n  max_pending: 5\n  max_pending_per_principal: 6", 3, "approvals.max_pending_per_principal", "must not exceed max_pending")]
    [InlineData("approvals:\n  webhook: { url: \"https://h\", attempts: 50 }", 2, "approvals.webhook.attempts", "must be at most 20")]
    [InlineData("approvals:\n  timeout: 5m", 2, "approvals.timeout", "")]
    public void LoadText_ApprovalsInvalid_ErrorNamesLineAndKey(string yaml, int line, string key, string message)
    {
        var result = Load(yaml);
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors, e => e.Key == key);
        Assert.Equal(SourceName, error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
