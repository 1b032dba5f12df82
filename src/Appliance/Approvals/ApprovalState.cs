namespace Appliance.Approvals;

/// <summary>Where a request stands. Only <see cref="Pending"/> changes; every other state is final.</summary>
public enum ApprovalState
{
    Pending,
    Approved,
    Denied,
    Expired,
    /// <summary>The waiting session is gone (it ended, or the gateway restarted): nothing will run.</summary>
    Orphaned,
    /// <summary>The client canceled the statement (psql Ctrl-C) while it waited.</summary>
    Canceled,
}
