using Appliance.Approvals;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Tests.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Tests.Approvals;

public sealed class ApprovalQueueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("approval-queue-").FullName;
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ApprovalQueue Queue(int maxPending = 10, int perPrincipal = 10) =>
        new(new ApprovalsConfig { Dir = _dir, MaxPending = maxPending, MaxPendingPerPrincipal = perPrincipal }, _dir, _time, NullLogger.Instance);

    private static ApprovalAsk Ask(string requester, int approvals = 1, string sql = "drop table t", Dictionary<string, IReadOnlyList<string>>? claims = null) => new()
    {
        Target = "orders", Rule = 3, RuleLine = 30, ApproverRoles = ["dba"], ApprovalsNeeded = approvals, Timeout = TimeSpan.FromMinutes(5),
        Requester = requester, RequesterIssuer = "ci", Claims = claims ?? [], Statement = sql, Fingerprint = StatementFingerprint.Compute(sql), StatementClass = "ddl",
    };

    private static Principal Reviewer(string subject, params string[] roles) => new(subject, "ci", roles, DateTimeOffset.MaxValue, new Dictionary<string, IReadOnlyList<string>>(), "");

    [Fact]
    public async Task SubmitAsync_QueueFull_RefusedUntilOneIsDecided()
    {
        using var queue = Queue(maxPending: 2);
        var first = await queue.SubmitAsync(Ask("a"));
        Assert.Null((await queue.SubmitAsync(Ask("b"))).Refusal);
        var full = await queue.SubmitAsync(Ask("c"));
        Assert.Contains("approval queue is full (2 requests pending)", full.Refusal);
        Assert.Equal(ReviewStatus.Done, queue.Deny(first.Request!.Id, Reviewer("r", "dba"), "no").Status);
        Assert.Null((await queue.SubmitAsync(Ask("c"))).Refusal);
    }

    [Fact]
    public async Task Approve_DecisionsPersist_ReloadKeepsThemAndOrphansPending()
    {
        string approvedId, pendingId;
        using (var queue = Queue())
        {
            var approved = await queue.SubmitAsync(Ask("deployer"));
            approvedId = approved.Request!.Id;
            Assert.Equal(ReviewStatus.Done, queue.Approve(approvedId, Reviewer("alice", "dba"), "ok").Status);
            Assert.True((await approved.Outcome!).Approved);
            pendingId = (await queue.SubmitAsync(Ask("deployer"))).Request!.Id;
        }
        using var reloaded = Queue();
        var kept = reloaded.Snapshot(approvedId)!;
        Assert.Equal((ApprovalState.Approved, "alice", "ok"), (kept.State, kept.Approvals[0].Subject, kept.Approvals[0].Reason));
        Assert.Equal(ApprovalState.Orphaned, reloaded.Snapshot(pendingId)!.State);
        Assert.Equal(0, reloaded.PendingCount);
    }

    [Fact]
    public async Task SubmitAsync_Timeout_OneTimerExpiresItAndFreesTheSlot()
    {
        using var queue = new ApprovalQueue(new ApprovalsConfig { Dir = _dir, MaxPending = 1 }, _dir, TimeProvider.System, NullLogger.Instance);
        var ask = Ask("deployer");
        var submitted = await queue.SubmitAsync(new ApprovalAsk
        {
            Target = ask.Target, Rule = ask.Rule, RuleLine = ask.RuleLine, ApproverRoles = ask.ApproverRoles, ApprovalsNeeded = 1, Timeout = TimeSpan.FromMilliseconds(100),
            Requester = ask.Requester, RequesterIssuer = ask.RequesterIssuer, Claims = ask.Claims, Statement = ask.Statement, StatementClass = ask.StatementClass,
        });
        Assert.NotNull((await queue.SubmitAsync(Ask("other"))).Refusal);
        var outcome = await submitted.Outcome!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(outcome.Approved);
        Assert.Contains("expired: no decision within 100ms", outcome.Message);
        Assert.Equal(ApprovalState.Expired, queue.Snapshot(submitted.Request!.Id)!.State);
        Assert.Null((await queue.SubmitAsync(Ask("other"))).Refusal);
    }

    [Fact]
    public async Task PreApprove_ByFingerprint_CountsAsOneApprovalNotForItsAuthor()
    {
        using var queue = Queue();
        var pre = queue.PreApprove(Reviewer("alice", "dba"), "orders", StatementFingerprint.Compute("DROP TABLE t"), null, null, 2, TimeSpan.FromHours(1), "r", out var problem);
        Assert.NotNull(pre);
        Assert.Null(problem);
        // The author's own statement is not covered.
        var own = await queue.SubmitAsync(Ask("alice"));
        Assert.False(own.ApprovedNow);
        // Another's is, as one approval: enough for approvals: 1, not for approvals: 2.
        Assert.True((await queue.SubmitAsync(Ask("bob"))).ApprovedNow);
        var quorum = await queue.SubmitAsync(Ask("bob", approvals: 2));
        Assert.False(quorum.ApprovedNow);
        Assert.Single(quorum.Request!.Approvals);
        Assert.Equal(2, queue.PreApprovals().Single().Used);
        Assert.False((await queue.SubmitAsync(Ask("carol"))).ApprovedNow);
    }

    [Fact]
    public void PreApprove_OverLimits_Refused()
    {
        using var queue = Queue();
        Assert.Null(queue.PreApprove(Reviewer("alice", "dba"), "orders", new string('a', 64), null, null, 101, TimeSpan.FromHours(1), null, out var problem));
        Assert.Contains("uses must be from 1 to 100", problem);
        Assert.Null(queue.PreApprove(Reviewer("alice", "dba"), "orders", new string('a', 64), null, null, 1, TimeSpan.FromHours(25), null, out problem));
        Assert.Contains("ttl must be", problem);
        Assert.Null(queue.PreApprove(Reviewer("alice", "dba"), "orders", new string('a', 64), "run_id", "1", 1, TimeSpan.FromHours(1), null, out problem));
        Assert.Contains("exactly one of", problem);
    }
}
