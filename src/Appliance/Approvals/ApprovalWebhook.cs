using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Appliance.Configuration;
using Microsoft.Extensions.Logging;

namespace Appliance.Approvals;

/// <summary>
/// Announces new requests with a JSON POST to the configured URL, signed with HMAC-SHA256 over the body
/// (<c>X-Appliance-Signature-256: sha256=HEX</c>, as GitHub does) and retried with exponential backoff up to
/// a bounded number of attempts. Sessions only enqueue (a bounded channel; when full the announcement is
/// dropped and logged): a slow or dead receiver never holds a session or the relay.
/// </summary>
internal sealed class ApprovalWebhook : IAsyncDisposable
{
    public const string SignatureHeader = "X-Appliance-Signature-256";
    private const int QueueCapacity = 1024;

    private readonly WebhookConfig _config;
    private readonly byte[] _secret;
    private readonly ApprovalQueue _queue;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly Channel<ApprovalRequest> _channel = Channel.CreateBounded<ApprovalRequest>(new BoundedChannelOptions(QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait, SingleReader = true,
    });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ApprovalWebhook(WebhookConfig config, ApprovalQueue queue, TimeProvider time, ILogger log)
    {
        _config = config;
        _queue = queue;
        _time = time;
        _log = log;
        _secret = config.SecretFile is { } file ? System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(file).Trim()) : [];
        _http = new HttpClient { Timeout = config.Timeout };
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues an announcement; never waits.</summary>
    public void Enqueue(ApprovalRequest request)
    {
        if (!_channel.Writer.TryWrite(request))
        {
            _log.LogWarning("approval {RequestId}: webhook queue full ({Capacity}); not announced", request.Id, QueueCapacity);
        }
    }

    /// <summary>The body sent for a request; also what the signature covers.</summary>
    public static byte[] Body(ApprovalRequest r) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        @event = "approval.requested",
        id = r.Id,
        target = r.Target,
        requester = r.Requester,
        statement_class = r.StatementClass,
        statement = r.Statement,
        fingerprint = r.Fingerprint,
        rule = r.Rule,
        approver_roles = r.ApproverRoles,
        approvals_needed = r.ApprovalsNeeded,
        created = r.Created,
        expires = r.Expires,
        approve_command = $"appliance approvals approve {r.Id}",
        // Slack-style receivers show "text".
        text = $"Approval {r.Id}: {r.Requester} asks to run {r.StatementClass} on {r.Target}. Approve: appliance approvals approve {r.Id}",
    }, ApprovalFiles.Json);

    public static string Sign(byte[] secret, ReadOnlySpan<byte> body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    private async Task RunAsync()
    {
        try
        {
            await foreach (var request in _channel.Reader.ReadAllAsync(_stop.Token))
            {
                await DeliverAsync(request, _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(ApprovalRequest request, CancellationToken ct)
    {
        var body = Body(request);
        var delay = _config.Backoff;
        for (int attempt = 1; attempt <= _config.Attempts; attempt++)
        {
            string failure;
            try
            {
                using var message = new HttpRequestMessage(HttpMethod.Post, _config.Url) { Content = new ByteArrayContent(body) };
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                message.Headers.Add("X-Appliance-Event", "approval.requested");
                message.Headers.Add("X-Appliance-Delivery", request.Id);
                if (_secret.Length > 0)
                {
                    message.Headers.Add(SignatureHeader, Sign(_secret, body));
                }
                using var response = await _http.SendAsync(message, ct);
                if (response.IsSuccessStatusCode)
                {
                    _queue.Notified(request.Id, $"webhook accepted it (HTTP {(int)response.StatusCode}) at attempt {attempt}");
                    return;
                }
                failure = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                failure = e is TaskCanceledException ? $"no answer within {ApprovalQueue.Format(_config.Timeout)}" : e.Message;
            }
            if (attempt == _config.Attempts)
            {
                _log.LogWarning("approval {RequestId}: webhook failed {Attempts} times, giving up (last: {Failure})", request.Id, attempt, failure);
                return;
            }
            _log.LogInformation("approval {RequestId}: webhook attempt {Attempt} failed ({Failure}); retrying in {Delay}", request.Id, attempt, failure, ApprovalQueue.Format(delay));
            await Task.Delay(delay, _time, ct);
            delay *= 2;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
        _http.Dispose();
        _stop.Dispose();
        CryptographicOperations.ZeroMemory(_secret);
    }
}
