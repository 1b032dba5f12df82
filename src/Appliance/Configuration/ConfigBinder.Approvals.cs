namespace Appliance.Configuration;

internal sealed partial class ConfigBinder
{
    private void BindApprovals(ConfigSection s, ApprovalsConfig approvals)
    {
        if (s.String("dir") is { } dir)
        {
            if (dir.Length == 0)
            {
                Error(s.KeyPath("dir"), "must not be empty (leave it out for state_dir/approvals)");
            }
            else
            {
                approvals.Dir = ResolvePath(dir);
            }
        }

        approvals.MaxPending = PositiveInt(s, "max_pending") ?? approvals.MaxPending;
        approvals.MaxPendingPerPrincipal = PositiveInt(s, "max_pending_per_principal") ?? approvals.MaxPendingPerPrincipal;
        if (approvals.MaxPendingPerPrincipal > approvals.MaxPending)
        {
            Error(s.KeyPath("max_pending_per_principal"), $"must not exceed max_pending ({approvals.MaxPending})");
        }

        approvals.DefaultTimeout = Positive(s, "default_timeout") ?? approvals.DefaultTimeout;
        approvals.KeepDecided = Positive(s, "keep_decided") ?? approvals.KeepDecided;
        if (s.Section("webhook", s_webhookKeys) is { } webhook)
        {
            var config = new WebhookConfig();
            if (webhook.String("url", required: true) is { } url)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    Error(webhook.KeyPath("url"), $"expected an http:// or https:// URL, got {ConfigText.Quote(url)}");
                }
                else if (uri.Scheme == "http" && !uri.IsLoopback)
                {
                    Error(webhook.KeyPath("url"), "must be https:// unless it is on loopback (requests carry statement text)");
                }
                config.Url = url;
            }

            config.SecretFile = FilePath(webhook, "secret_file", webhook.String("secret_file"));
            config.Attempts = PositiveInt(webhook, "attempts") ?? config.Attempts;
            if (config.Attempts > 20)
            {
                Error(webhook.KeyPath("attempts"), $"must be at most 20, got {config.Attempts}");
            }

            config.Backoff = Positive(webhook, "backoff") ?? config.Backoff;
            config.Timeout = Positive(webhook, "timeout") ?? config.Timeout;
            approvals.Webhook = config;
        }

        if (s.Section("pre_approval", s_preApprovalKeys) is { } pre)
        {
            approvals.PreApprovalMaxUses = PositiveInt(pre, "max_uses") ?? approvals.PreApprovalMaxUses;
            approvals.PreApprovalMaxTtl = Positive(pre, "max_ttl") ?? approvals.PreApprovalMaxTtl;
        }
    }
}
