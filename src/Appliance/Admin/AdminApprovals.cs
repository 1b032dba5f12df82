using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Approvals;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Appliance.Admin;

/// <summary>
/// The approvals endpoints of the admin API. Reviewers present a JWT; listing needs an admin role or an
/// approver role of any rule, deciding needs an approver role of the request's rule. Every failure is a
/// 4xx with a JSON <c>error</c> that says what was wrong.
/// </summary>
internal static class AdminApprovals
{
    /// <summary>Largest request body accepted (a reason, a pre-approval).</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private sealed record ReviewBody(string? Reason);

    private sealed record PreApprovalBody(string? Target, string? Fingerprint, string? Sql, string? Claim, int? Uses, string? Ttl, string? Reason);

    public static void Map(WebApplication app, ApplianceConfig config, ApprovalQueue queue, PolicyStore policies, Func<HttpContext, Task<(Principal?, IResult?)>> authenticate)
    {
        var json = ApprovalFiles.Json;

        async Task<(Principal?, IResult?)> Reviewer(HttpContext http)
        {
            var (principal, failure) = await authenticate(http);
            if (principal is null)
            {
                return (null, failure);
            }
            var reviewerRoles = ReviewerRoles(config, policies);
            return principal.Roles.Any(reviewerRoles.Contains)
                ? (principal, null)
                : (null, Error(StatusCodes.Status403Forbidden, $"principal \"{principal.Subject}\" has no approver role of any rule and no admin role"));
        }

        app.MapGet("/v1/approvals", async (HttpContext http) =>
        {
            var (_, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            ApprovalState? state = null;
            if (http.Request.Query["state"].ToString() is { Length: > 0 } text)
            {
                if (!Enum.TryParse<ApprovalState>(text, ignoreCase: true, out var parsed) || int.TryParse(text, out _))
                {
                    return Error(StatusCodes.Status400BadRequest, $"unknown state \"{Cap(text)}\"; expected pending, approved, denied, expired, orphaned or canceled");
                }
                state = parsed;
            }
            return Results.Json(new { approvals = queue.List(state) }, json);
        });

        app.MapGet("/v1/approvals/{id}", async (HttpContext http, string id) =>
        {
            var (_, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            return queue.Snapshot(id) is { } request ? Results.Json(request, json) : Error(StatusCodes.Status404NotFound, $"no approval request {Cap(id)}");
        });

        app.MapPost("/v1/approvals/{id}/approve", async (HttpContext http, string id) =>
        {
            var (principal, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            var (body, bad) = await ReadAsync<ReviewBody>(http);
            if (bad is not null) return bad;
            if (ReasonProblem(body?.Reason, required: false) is { } problem) return problem;
            return Answer(queue.Approve(id, principal!, body?.Reason), json);
        });

        app.MapPost("/v1/approvals/{id}/deny", async (HttpContext http, string id) =>
        {
            var (principal, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            var (body, bad) = await ReadAsync<ReviewBody>(http);
            if (bad is not null) return bad;
            if (ReasonProblem(body?.Reason, required: true) is { } problem) return problem;
            return Answer(queue.Deny(id, principal!, body!.Reason!), json);
        });

        app.MapGet("/v1/approvals/pre", async (HttpContext http) =>
        {
            var (_, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            return Results.Json(new { pre_approvals = queue.PreApprovals() }, json);
        });

        app.MapPost("/v1/approvals/pre", async (HttpContext http) =>
        {
            var (principal, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            var (body, bad) = await ReadAsync<PreApprovalBody>(http);
            if (bad is not null) return bad;
            if (body is null || string.IsNullOrEmpty(body.Target))
            {
                return Error(StatusCodes.Status400BadRequest, "target is required");
            }
            if (policies.Current.For(body.Target) is not { } target)
            {
                return Error(StatusCodes.Status404NotFound, $"no target \"{Cap(body.Target)}\"");
            }
            if (!target.Rules.Any(r => r.Action == PolicyAction.Review && principal!.Roles.Any(r.Config.Approvers.Contains)))
            {
                return Error(StatusCodes.Status403Forbidden, $"principal \"{principal!.Subject}\" is not an approver of any review rule of target \"{body.Target}\"");
            }
            if (ReasonProblem(body.Reason, required: false) is { } problem) return problem;
            string? fingerprint = body.Fingerprint;
            if (body.Sql is not null)
            {
                if (fingerprint is not null)
                {
                    return Error(StatusCodes.Status400BadRequest, "give sql or fingerprint, not both");
                }
                fingerprint = StatementFingerprint.Compute(body.Sql);
                if (fingerprint is null)
                {
                    return Error(StatusCodes.Status400BadRequest, "sql cannot be read by the gateway's lexer");
                }
            }
            if (fingerprint is not null && (fingerprint.Length != 64 || !fingerprint.All(char.IsAsciiHexDigit)))
            {
                return Error(StatusCodes.Status400BadRequest, "fingerprint must be 64 hex digits (appliance approvals fingerprint SQL prints one)");
            }
            string? claimName = null, claimValue = null;
            if (body.Claim is { } claim)
            {
                int eq = claim.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || eq == claim.Length - 1)
                {
                    return Error(StatusCodes.Status400BadRequest, "claim must be NAME=VALUE");
                }
                (claimName, claimValue) = (claim[..eq], claim[(eq + 1)..]);
            }
            var ttl = TimeSpan.FromHours(1);
            if (body.Ttl is { } ttlText && !DurationText.TryParse(ttlText, out ttl))
            {
                return Error(StatusCodes.Status400BadRequest, $"ttl: expected a duration such as 30m or 2h, got \"{Cap(ttlText)}\"");
            }
            var pre = queue.PreApprove(principal!, body.Target, fingerprint, claimName, claimValue, body.Uses ?? 1, ttl, body.Reason, out var why);
            return pre is null ? Error(StatusCodes.Status400BadRequest, why!) : Results.Json(pre, json, statusCode: StatusCodes.Status201Created);
        });

        app.MapDelete("/v1/approvals/pre/{id}", async (HttpContext http, string id) =>
        {
            var (principal, failure) = await Reviewer(http);
            if (failure is not null) return failure;
            return queue.Revoke(id, principal!) is { } pre ? Results.Json(pre, json) : Error(StatusCodes.Status404NotFound, $"no pre-approval {Cap(id)}");
        });
    }

    /// <summary>Every role that may review something: admin roles and every review rule's approvers.</summary>
    private static HashSet<string> ReviewerRoles(ApplianceConfig config, PolicyStore policies)
    {
        var roles = new HashSet<string>(config.Admin?.Roles ?? [], StringComparer.Ordinal);
        foreach (var target in config.Targets)
        {
            if (policies.Current.For(target.Name) is not { } policy) continue;
            foreach (var rule in policy.Rules)
            {
                if (rule.Action == PolicyAction.Review) roles.UnionWith(rule.Config.Approvers);
            }
        }
        return roles;
    }

    private static IResult Answer(ReviewResult result, JsonSerializerOptions json) => result.Status switch
    {
        ReviewStatus.Done => Results.Json(new { status = result.Message, request = result.Request }, json),
        ReviewStatus.NotFound => Error(StatusCodes.Status404NotFound, result.Message),
        ReviewStatus.NotApprover or ReviewStatus.SelfApproval => Error(StatusCodes.Status403Forbidden, result.Message),
        _ => Error(StatusCodes.Status409Conflict, result.Message),
    };

    private static IResult? ReasonProblem(string? reason, bool required)
    {
        if (required && string.IsNullOrWhiteSpace(reason))
        {
            return Error(StatusCodes.Status400BadRequest, "a reason is required to deny");
        }
        if (reason is not null && reason.Length > ApprovalQueue.MaxReasonChars)
        {
            return Error(StatusCodes.Status400BadRequest, $"reason is too long ({reason.Length} characters; at most {ApprovalQueue.MaxReasonChars})");
        }
        if (reason is not null && reason.Any(c => char.IsControl(c) && c is not '\n' and not '\t'))
        {
            return Error(StatusCodes.Status400BadRequest, "reason must not contain control characters");
        }
        return null;
    }

    /// <summary>Reads a JSON body of at most <see cref="MaxBodyBytes"/>; an empty body is null.</summary>
    private static async Task<(T?, IResult?)> ReadAsync<T>(HttpContext http) where T : class
    {
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            return (null, Error(StatusCodes.Status413PayloadTooLarge, $"request body too large (at most {MaxBodyBytes} bytes)"));
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return (null, Error(StatusCodes.Status413PayloadTooLarge, $"request body too large (at most {MaxBodyBytes} bytes)"));
            }
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
        {
            return (null, null);
        }
        try
        {
            return (JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), s_body), null);
        }
        catch (JsonException e)
        {
            return (null, Error(StatusCodes.Status400BadRequest, $"invalid JSON body: {Cap(e.Message)}"));
        }
    }

    private static readonly JsonSerializerOptions s_body = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    private static string Cap(string text) => text.Length <= 100 ? text : text[..100] + "…";
}
