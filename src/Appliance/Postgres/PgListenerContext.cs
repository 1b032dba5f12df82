using System.Net;
using System.Net.Security;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Policy;
using Appliance.Recording;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>What every session on one listening address shares.</summary>
internal sealed class PgListenerContext(
    IPEndPoint endPoint,
    IReadOnlyDictionary<string, PgTarget> targetsByDatabase,
    SslStreamCertificateContext? serverCertificate,
    IIdentityVerifier identity,
    PgCancelRegistry cancels,
    PolicyStore policies,
    RecordingService recording,
    Approvals.ApprovalQueue approvals,
    LimitsConfig limits,
    ILogger logger,
    Lazy<Masking.MaskingKeys> maskingKeys,
    Hosting.GatewayMetrics metrics)
{
    public Hosting.GatewayMetrics Metrics { get; } = metrics;

    /// <summary>The secret behind hash masks, read (or made) when a session first needs it.</summary>
    public Lazy<Masking.MaskingKeys> MaskingKeys { get; } = maskingKeys;

    public IPEndPoint EndPoint { get; } = endPoint;
    public IReadOnlyDictionary<string, PgTarget> TargetsByDatabase { get; } = targetsByDatabase;
    public SslStreamCertificateContext? ServerCertificate { get; } = serverCertificate;
    public IIdentityVerifier Identity { get; } = identity;
    public PgCancelRegistry Cancels { get; } = cancels;
    public PolicyStore Policies { get; } = policies;
    public RecordingService Recording { get; } = recording;
    public Approvals.ApprovalQueue Approvals { get; } = approvals;
    public LimitsConfig Limits { get; } = limits;
    public ILogger Logger { get; } = logger;
    public bool IsLoopback { get; } = IPAddress.IsLoopback(endPoint.Address);
}
