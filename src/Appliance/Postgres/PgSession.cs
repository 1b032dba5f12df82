using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Appliance.Identity;
using Appliance.Policy;
using Appliance.Recording;
using Appliance.Protocols.Postgres;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>One client connection: TLS, startup, token check, upstream login, then the relay.</summary>
internal sealed partial class PgSession
{
    private readonly PgListenerContext _context;
    private readonly PgConnection _client;
    private readonly EndPoint _remote;
    private readonly long _id;
    private PgTarget? _target;
    private Principal? _principal;
    private SessionPolicy? _policy;
    private SessionRecorder? _recorder;

    public PgSession(PgListenerContext context, Socket socket, long id)
    {
        _context = context;
        _remote = socket.RemoteEndPoint!;
        _client = new PgConnection(socket, readBufferSize: 8 * 1024);
        _id = id;
        _log = new Hosting.EntryScopedLogger(context.Logger, "session {SessionId} from {Client}", id, _remote);
    }

    private readonly Microsoft.Extensions.Logging.ILogger _log;

    public long Id => _id;

    /// <summary>Runs the session to its end. <paramref name="abort"/> ends it at once (shutdown deadline).</summary>
    public async Task RunAsync(CancellationToken abort)
    {
        string? fatalState = null;
        try
        {
            fatalState = await RunSessionAsync(abort);
        }
        finally
        {
            _context.Metrics.SessionEnded(_target?.Name, _started, fatalState, _bytesFromClient, _bytesFromUpstream);
        }
    }

    private bool _started;

    /// <summary>Runs the session; returns the SQLSTATE of the FATAL the client was sent, if any.</summary>
    private async Task<string?> RunSessionAsync(CancellationToken abort)
    {
        await using var client = _client;
        string? fatalState = null, fatalMessage = null;
        PgUpstream? upstream = null;
        try
        {
            using (var login = CancellationTokenSource.CreateLinkedTokenSource(abort))
            {
                login.CancelAfter(_context.Limits.LoginTimeout);
                try
                {
                    upstream = await LoginAsync(login.Token);
                }
                catch (OperationCanceledException) when (!abort.IsCancellationRequested)
                {
                    throw new PgProtocolException(PgSqlState.ConnectionFailure, $"login did not finish within {_context.Limits.LoginTimeout.TotalSeconds:0}s");
                }
            }
            if (upstream is null)
            {
                return null;
            }
            await using (upstream.Connection)
            {
                StartRecording();
                using var key = _context.Cancels.Register(upstream.RemoteEndPoint, upstream.ProcessId, upstream.SecretKey, CancelHeld);
                await CompleteClientLoginAsync(upstream, key.ProcessId, key.Secret, abort);
                _log.LogInformation("session started for {Principal} on target {Target}", _principal!.Subject, _target!.Name);
                _context.Metrics.SessionStarted(_target.Name);
                _started = true;
                var end = await RelayAsync(upstream.Connection, abort);
                (fatalState, fatalMessage) = end;
            }
        }
        catch (PgProtocolException e)
        {
            (fatalState, fatalMessage) = (e.SqlState, e.Message);
            _log.LogWarning("session refused: {Reason} ({SqlState})", e.Message, e.SqlState);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            (fatalState, fatalMessage) = (PgSqlState.AdminShutdown, "terminating connection because the gateway is shutting down");
        }
        catch (Exception e) when (e is IOException or SocketException or AuthenticationException or ObjectDisposedException)
        {
            _log.LogDebug("session connection ended: {Error}", e.Message);
        }
        if (fatalState is not null)
        {
            await TrySendFatalAsync(fatalState, fatalMessage!);
        }
        if (_recorder is { } recorder)
        {
            recorder.End(fatalMessage ?? (_clientTerminated ? "client terminated" : "connection closed"), _bytesFromClient, _bytesFromUpstream);
            // The session lasts until its records are in the store's queue (a shutdown waits for sessions, then closes the store).
            await recorder.WaitForRoomAsync();
        }
        if (_principal is not null)
        {
            _log.LogInformation("session ended for {Principal} on target {Target}", _principal.Subject, _target?.Name);
        }
        return fatalState;
    }

    private async ValueTask TrySendFatalAsync(string sqlState, string message)
    {
        try
        {
            PgMessageWriter.WriteError(_client.Writer, "FATAL", sqlState, message);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if ((await _client.Writer.FlushAsync(timeout.Token)).IsCanceled)
            {
                // A cancellation left over from stopping the relay; this flush is the real one.
                await _client.Writer.FlushAsync(timeout.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone; nothing more to tell it.
        }
    }

    /// <summary>Starts the session's recording; a session that cannot be recorded does not start (fail closed).</summary>
    private void StartRecording()
    {
        try
        {
            _recorder = _context.Recording.StartSession(new SessionStartInfo
            {
                Subject = _principal!.Subject,
                Issuer = _principal.Issuer,
                Roles = _principal.Roles,
                ClaimsDigest = _principal.ClaimsDigest,
                Target = _target!.Name,
                ClientAddress = _remote.ToString() ?? "",
                TlsProtocol = _client.Tls?.SslProtocol.ToString() ?? "none",
            });
            _gate!.Recorder = _recorder;
        }
        catch (RecordingRefusedException e)
        {
            throw new PgProtocolException(PgSqlState.CannotConnectNow, $"session refused: it cannot be recorded ({e.Message})");
        }
    }

    /// <summary>Startup until the upstream is logged in; null when the connection ends without a session (cancel requests).</summary>
    private async Task<PgUpstream?> LoginAsync(CancellationToken ct)
    {
        var limits = _context.Limits;
        while (true)
        {
            var read = await _client.ReadStartupPacketAsync(limits.MaxStartupPacketBytes, ct);
            if (read is null)
            {
                return null;
            }
            var (packet, body, trailing) = read.Value;
            if (packet.IsSslRequest || packet.IsGssEncRequest)
            {
                if (trailing)
                {
                    // Bytes sent before the TLS handshake could be injected by anyone on the path.
                    throw new PgProtocolException(PgSqlState.ProtocolViolation, "unexpected data after an encryption request");
                }
                if (_client.Tls is not null)
                {
                    throw new PgProtocolException(PgSqlState.ProtocolViolation, "encryption requested twice");
                }
                await NegotiateEncryptionAsync(packet.IsSslRequest, ct);
                continue;
            }
            if (packet.IsCancelRequest)
            {
                await ForwardCancelAsync(body, ct);
                return null;
            }
            if (packet.ProtocolMajor != 3)
            {
                throw new PgProtocolException(PgSqlState.FeatureNotSupported,
                    $"unsupported frontend protocol {packet.ProtocolMajor}.{packet.ProtocolMinor}: the gateway supports protocol 3.0");
            }
            return await StartSessionAsync(packet, body, ct);
        }
    }

    private async Task NegotiateEncryptionAsync(bool ssl, CancellationToken ct)
    {
        var certificate = ssl ? _context.ServerCertificate : null;
        await _client.Stream.WriteAsync(certificate is null ? "N"u8.ToArray() : "S"u8.ToArray(), ct);
        if (certificate is null)
        {
            return;
        }
        var tls = new SslStream(_client.Stream, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = [new SslApplicationProtocol("postgresql")],
        }, ct);
        _client.UseTls(tls);
    }

    private async Task ForwardCancelAsync(byte[] body, CancellationToken ct)
    {
        if (body.Length != 8)
        {
            return;
        }
        int pid = BinaryPrimitives.ReadInt32BigEndian(body);
        int secret = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(4));
        if (_context.Cancels.TryResolve(pid, secret, out var upstream, out var upstreamPid, out var upstreamSecret, out var onCancel))
        {
            if (onCancel?.Invoke() == true)
            {
                _log.LogInformation("cancel request for gateway process {ProcessId} withdrew a statement waiting for approval", pid);
                return;
            }
            _log.LogInformation("forwarding cancel request for gateway process {ProcessId}", pid);
            await PgUpstreamConnector.SendCancelAsync(upstream, upstreamPid, upstreamSecret, ct);
        }
        else
        {
            _log.LogWarning("cancel request with an unknown key for gateway process {ProcessId}", pid);
        }
    }

    private async Task<PgUpstream> StartSessionAsync(PgStartupPacket packet, byte[] body, CancellationToken ct)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        if (!PgStartupReader.TryParseParameters(new(body), parameters, out var error))
        {
            throw new PgProtocolException(PgSqlState.ProtocolViolation, $"invalid startup packet: {error}");
        }
        foreach (var p in parameters)
        {
            if (PgStartupParameters.Refusal(p.Key) is { } refusal)
            {
                throw new PgProtocolException(PgSqlState.FeatureNotSupported, refusal);
            }
            if (p.Key.Equals("client_encoding", StringComparison.OrdinalIgnoreCase) && !p.Value.Equals("auto", StringComparison.OrdinalIgnoreCase)
                && !Appliance.Protocols.Postgres.Sql.SqlLexerOptions.IsAsciiSafeClientEncoding(Encoding.UTF8.GetBytes(p.Value)))
            {
                throw new PgProtocolException(PgSqlState.FeatureNotSupported,
                    $"client_encoding '{PgStartupParameters.Escape(p.Value)}' is not supported through the gateway (its multi-byte characters can hide quotes); use UTF8");
            }
        }
        string? user = parameters.FirstOrDefault(p => p.Key == "user").Value;
        if (string.IsNullOrEmpty(user))
        {
            throw new PgProtocolException(PgSqlState.InvalidAuthorization, "no user name in the startup packet");
        }
        string database = parameters.FirstOrDefault(p => p.Key == "database").Value is { Length: > 0 } db ? db : user;
        if (!_context.TargetsByDatabase.TryGetValue(database, out var target))
        {
            throw new PgProtocolException(PgSqlState.InvalidCatalogName,
                $"no target named \"{PgStartupParameters.Escape(database)}\" on this listener (dbname selects the target)");
        }
        _target = target;
        if (_client.Tls is null && !_context.IsLoopback && !target.Config.AllowInsecure)
        {
            throw new PgProtocolException(PgSqlState.InvalidAuthorization,
                $"target \"{target.Name}\" requires TLS to send a token over the network; connect with sslmode=verify-full");
        }
        if (packet.ProtocolMinor > 0 || parameters.Any(p => p.Key.StartsWith("_pq_.", StringComparison.Ordinal)))
        {
            WriteNegotiateProtocolVersion(parameters);
        }

        await AuthenticateClientAsync(target, ct);
        await StartMaskingAsync(ct);

        var forwarded = parameters.Where(p => PgStartupParameters.IsForwarded(p.Key));
        var upstream = await PgUpstreamConnector.ConnectAsync(target, forwarded, ct);
        _gate!.UseSearchSchemas(upstream.SearchSchemas);
        return upstream;
    }

    private async Task AuthenticateClientAsync(PgTarget target, CancellationToken ct)
    {
        PgMessageWriter.WriteAuthentication(_client.Writer, PgAuthCodes.CleartextPassword);
        await _client.Writer.FlushAsync(ct);
        var message = await _client.ReadMessageAsync(PasswordMessageLimit, ct)
            ?? throw new PgProtocolException(PgSqlState.InvalidPassword, "connection closed before a token was sent");
        if (message.Type != PgFrontend.Password)
        {
            throw new PgProtocolException(PgSqlState.ProtocolViolation, $"expected a password message, got '{PgConnection.Printable(message.Type)}'");
        }
        var payload = message.Payload;
        int end = Array.IndexOf(payload, (byte)0);
        string token = Encoding.UTF8.GetString(payload, 0, end < 0 ? payload.Length : end);
        Array.Clear(payload);
        var result = await _context.Identity.VerifyAsync(token, ct);
        if (result.Principal is not { } principal)
        {
            throw new PgProtocolException(PgSqlState.InvalidPassword, $"token rejected: {result.Reason}");
        }
        if (_context.Policies.Current.For(target.Name) is not { } policy || !policy.Admits(principal.Roles))
        {
            string roles = principal.Roles.Count == 0 ? "none" : string.Join(", ", principal.Roles);
            throw new PgProtocolException(PgSqlState.InvalidAuthorization,
                $"principal \"{PgStartupParameters.Escape(principal.Subject)}\" has no role allowed on target \"{target.Name}\" (its roles: {roles})");
        }
        _principal = principal;
        _policy = new SessionPolicy(_context.Policies, target.Name, principal.Roles);
        _gate = new PgStatementGate(_policy, _log, principal.Subject) { DdlDecided = target.InvalidateCatalog };
    }

    /// <summary>JWTs run to a few kilobytes; anything far larger is not a token.</summary>
    private const int PasswordMessageLimit = 64 * 1024;

    private void WriteNegotiateProtocolVersion(List<KeyValuePair<string, string>> parameters)
    {
        var options = parameters.Where(p => p.Key.StartsWith("_pq_.", StringComparison.Ordinal)).Select(p => p.Key).ToList();
        int length = 4 + 4 + 4 + options.Sum(o => Encoding.UTF8.GetByteCount(o) + 1);
        var span = _client.Writer.GetSpan(length + 1);
        span[0] = PgBackend.NegotiateProtocolVersion;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], 0);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], options.Count);
        int pos = 13;
        foreach (var o in options)
        {
            pos += Encoding.UTF8.GetBytes(o, span[pos..]);
            span[pos++] = 0;
        }
        _client.Writer.Advance(pos);
        parameters.RemoveAll(p => p.Key.StartsWith("_pq_.", StringComparison.Ordinal));
    }

    private async Task CompleteClientLoginAsync(PgUpstream upstream, int processId, int secret, CancellationToken ct)
    {
        var writer = _client.Writer;
        PgMessageWriter.WriteAuthentication(writer, PgAuthCodes.Ok);
        foreach (var p in upstream.Parameters)
        {
            PgMessageWriter.WriteParameterStatus(writer, p.Key, p.Value);
        }
        PgMessageWriter.WriteBackendKeyData(writer, processId, secret);
        PgMessageWriter.WriteReadyForQuery(writer, PgReadyStatus.Idle);
        await writer.FlushAsync(ct);
    }
}
