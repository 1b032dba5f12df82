using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Appliance.Configuration;
using Appliance.Net;
using Appliance.Protocols.Postgres;
using Appliance.Protocols.Postgres.Auth;

namespace Appliance.Postgres;

/// <summary>An authenticated upstream connection, ready for queries.</summary>
/// <param name="SearchSchemas">The schemas the session's search_path names that exist (<c>current_schemas(false)</c>),
/// in order: where an unqualified table name resolves.</param>
internal sealed record PgUpstream(PgConnection Connection, int ProcessId, int SecretKey, List<KeyValuePair<string, string>> Parameters, EndPoint RemoteEndPoint,
    IReadOnlyList<string> SearchSchemas);

/// <summary>Opens and authenticates the connection to a target's database with the gateway's own credentials.</summary>
internal static class PgUpstreamConnector
{
    private const int MaxUpstreamStartupMessage = 1 << 20;

    public static async Task<PgUpstream> ConnectAsync(PgTarget target, IEnumerable<KeyValuePair<string, string>> clientParameters, CancellationToken ct)
    {
        var up = target.Config.Upstream;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(up.ConnectTimeout);
        var (socket, transport) = await OpenSocketAsync(target, timeout.Token);
        var connection = new PgConnection(socket, transport, readBufferSize: 16 * 1024);
        try
        {
            if (up.Tls != UpstreamTlsMode.Disable)
            {
                await NegotiateTlsAsync(target, connection, timeout.Token);
            }
            var startup = new List<KeyValuePair<string, string>> { new("user", up.User), new("database", up.Database) };
            startup.AddRange(clientParameters);
            PgMessageWriter.WriteStartupMessage(connection.Writer, startup);
            await connection.Writer.FlushAsync(timeout.Token);
            await AuthenticateAsync(target, connection, timeout.Token);
            return await ReadUntilReadyAsync(target, connection, socket.RemoteEndPoint!, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await connection.DisposeAsync();
            throw Fail(target, PgSqlState.ConnectionFailure, $"timed out after {up.ConnectTimeout.TotalSeconds:0.#}s logging in");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<(Socket Socket, Stream Transport)> OpenSocketAsync(PgTarget target, CancellationToken ct)
    {
        var up = target.Config.Upstream;
        try
        {
            return await EpollTransport.ConnectAsync(up.Host, up.Port, ct);
        }
        catch (SocketException e)
        {
            throw Fail(target, PgSqlState.ConnectionFailure, $"cannot reach {up.Host}:{up.Port}: {e.SocketErrorCode}");
        }
    }

    private static async Task NegotiateTlsAsync(PgTarget target, PgConnection connection, CancellationToken ct)
    {
        var up = target.Config.Upstream;
        PgMessageWriter.WriteCodePacket(connection.Writer, PgStartupCodes.SslRequest);
        await connection.Writer.FlushAsync(ct);
        var result = await connection.Reader.ReadAsync(ct);
        if (result.Buffer.IsEmpty)
        {
            throw Fail(target, PgSqlState.ConnectionFailure, "closed the connection during TLS negotiation");
        }
        byte answer = result.Buffer.FirstSpan[0];
        bool extra = result.Buffer.Length > 1;
        connection.Reader.AdvanceTo(result.Buffer.GetPosition(1));
        if (answer == (byte)'N')
        {
            if (up.Tls is UpstreamTlsMode.Require or UpstreamTlsMode.VerifyFull)
            {
                throw Fail(target, PgSqlState.ConnectionFailure, $"does not offer TLS, and upstream tls is '{up.Tls}'");
            }
            return;
        }
        if (answer != (byte)'S' || extra)
        {
            throw Fail(target, PgSqlState.ConnectionFailure, "answered the TLS request with something other than S or N");
        }
        var ssl = new SslStream(connection.Stream, leaveInnerStreamOpen: true);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = up.Host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        if (up.Tls == UpstreamTlsMode.VerifyFull)
        {
            if (up.CaFile is not null)
            {
                var trust = new X509Certificate2Collection();
                trust.ImportFromPemFile(up.CaFile);
                options.CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                };
                options.CertificateChainPolicy.CustomTrustStore.AddRange(trust);
            }
        }
        else
        {
            // prefer/require encrypt without authenticating the server, as libpq does.
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        try
        {
            await ssl.AuthenticateAsClientAsync(options, ct);
        }
        catch (AuthenticationException e)
        {
            await ssl.DisposeAsync();
            throw Fail(target, PgSqlState.ConnectionFailure, $"TLS handshake failed: {e.Message}");
        }
        connection.UseTls(ssl);
    }

    private static async Task AuthenticateAsync(PgTarget target, PgConnection connection, CancellationToken ct)
    {
        ScramSha256Client? scram = null;
        bool serverProved = false;
        while (true)
        {
            var message = await connection.ReadMessageAsync(MaxUpstreamStartupMessage, ct)
                ?? throw Fail(target, PgSqlState.ConnectionFailure, "closed the connection during login");
            var (type, payload) = message;
            if (type == PgBackend.ErrorResponse)
            {
                var error = PgErrorFields.Parse(new(payload));
                string state = error.SqlState.StartsWith("28", StringComparison.Ordinal) ? PgSqlState.InvalidAuthorization : PgSqlState.ConnectionFailure;
                throw Fail(target, state, $"refused the gateway's login: {error.Message} ({error.SqlState})");
            }
            if (type == PgBackend.NegotiateProtocolVersion || type == PgBackend.NoticeResponse)
            {
                continue;
            }
            if (type != PgBackend.Authentication || payload.Length < 4)
            {
                throw Fail(target, PgSqlState.ProtocolViolation, $"sent unexpected message '{PgConnection.Printable(type)}' during login");
            }
            int code = BinaryPrimitives.ReadInt32BigEndian(payload);
            switch (code)
            {
                case PgAuthCodes.Ok:
                    if (scram is not null && !serverProved)
                    {
                        throw Fail(target, PgSqlState.ProtocolViolation, "ended SCRAM before proving it knows the password");
                    }
                    return;
                case PgAuthCodes.CleartextPassword:
                    WritePassword(connection, Encoding.UTF8.GetBytes(target.Password));
                    break;
                case PgAuthCodes.Md5Password when payload.Length >= 8:
                    WritePassword(connection, Md5Password.Compute(target.Config.Upstream.User, target.Password, payload.AsSpan(4, 4)));
                    break;
                case PgAuthCodes.Sasl:
                    if (!Encoding.UTF8.GetString(payload, 4, payload.Length - 4).Split('\0').Contains(ScramSha256Client.MechanismName))
                    {
                        throw Fail(target, PgSqlState.FeatureNotSupported, "offers no SASL mechanism the gateway supports (SCRAM-SHA-256)");
                    }
                    scram = new ScramSha256Client(target.Password, target.ScramCache);
                    PgMessageWriter.WriteSaslInitialResponse(connection.Writer, ScramSha256Client.MechanismName, scram.CreateClientFirstMessage());
                    break;
                case PgAuthCodes.SaslContinue when scram is not null:
                    if (!scram.TryCreateClientFinalMessage(payload.AsSpan(4), out var final, out var scramError))
                    {
                        throw Fail(target, PgSqlState.InvalidAuthorization, $"SCRAM exchange failed: {scramError}");
                    }
                    PgMessageWriter.WritePasswordMessage(connection.Writer, final);
                    break;
                case PgAuthCodes.SaslFinal when scram is not null:
                    if (!scram.VerifyServerFinal(payload.AsSpan(4), out var verifyError))
                    {
                        throw Fail(target, PgSqlState.InvalidAuthorization, $"SCRAM server proof failed: {verifyError}");
                    }
                    serverProved = true;
                    continue;
                default:
                    throw Fail(target, PgSqlState.FeatureNotSupported, $"asks for authentication method {code}, which the gateway does not support");
            }
            await connection.Writer.FlushAsync(ct);
        }
    }

    private static void WritePassword(PgConnection connection, byte[] secret)
    {
        var body = new byte[secret.Length + 1];
        secret.CopyTo(body, 0);
        PgMessageWriter.WritePasswordMessage(connection.Writer, body);
        Array.Clear(body);
    }

    private static async Task<PgUpstream> ReadUntilReadyAsync(PgTarget target, PgConnection connection, EndPoint remote, CancellationToken ct)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        int pid = 0, secret = 0;
        while (true)
        {
            var message = await connection.ReadMessageAsync(MaxUpstreamStartupMessage, ct)
                ?? throw Fail(target, PgSqlState.ConnectionFailure, "closed the connection after login");
            var (type, payload) = message;
            switch (type)
            {
                case PgBackend.ParameterStatus:
                    var parts = Encoding.UTF8.GetString(payload).Split('\0');
                    if (parts.Length >= 2) parameters.Add(new(parts[0], parts[1]));
                    break;
                case PgBackend.BackendKeyData when payload.Length >= 8:
                    pid = BinaryPrimitives.ReadInt32BigEndian(payload);
                    secret = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4));
                    break;
                case PgBackend.NoticeResponse:
                    break;
                case PgBackend.ErrorResponse:
                    var error = PgErrorFields.Parse(new(payload));
                    throw Fail(target, PgSqlState.ConnectionFailure, $"failed after login: {error.Message} ({error.SqlState})");
                case PgBackend.ReadyForQuery:
                    var schemas = await ReadSearchSchemasAsync(target, connection, ct);
                    return new PgUpstream(connection, pid, secret, parameters, remote, schemas);
                default:
                    throw Fail(target, PgSqlState.ProtocolViolation, $"sent unexpected message '{PgConnection.Printable(type)}' after login");
            }
        }
    }

    /// <summary>
    /// Asks the new session where unqualified names resolve. The answer includes everything that sets the
    /// session's search_path before its first statement: the server's default ("$user", public, so a schema named
    /// after the gateway's login role counts), ALTER ROLE/DATABASE ... SET search_path, and the client's startup
    /// parameter. The statement policy resolves unqualified table names with it.
    /// </summary>
    private static async Task<List<string>> ReadSearchSchemasAsync(PgTarget target, PgConnection connection, CancellationToken ct)
    {
        PgMessageWriter.WriteQuery(connection.Writer, "select s from pg_catalog.unnest(pg_catalog.current_schemas(false)) s");
        await connection.Writer.FlushAsync(ct);
        var schemas = new List<string>();
        string? failure = null;
        while (true)
        {
            var message = await connection.ReadMessageAsync(MaxUpstreamStartupMessage, ct)
                ?? throw Fail(target, PgSqlState.ConnectionFailure, "closed the connection after login");
            var (type, payload) = message;
            switch (type)
            {
                case PgBackend.DataRow when payload.Length >= 6 && BinaryPrimitives.ReadInt16BigEndian(payload) == 1:
                    int length = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(2));
                    if (length < 0 || length > payload.Length - 6)
                    {
                        throw Fail(target, PgSqlState.ProtocolViolation, "sent a malformed row for the search_path query");
                    }
                    schemas.Add(Encoding.UTF8.GetString(payload, 6, length));
                    break;
                case PgBackend.RowDescription or PgBackend.CommandComplete or PgBackend.NoticeResponse or PgBackend.ParameterStatus:
                    break;
                case PgBackend.ErrorResponse:
                    var error = PgErrorFields.Parse(new(payload));
                    failure = $"could not read the session's search_path: {error.Message} ({error.SqlState})";
                    break;
                case PgBackend.ReadyForQuery when failure is null:
                    return schemas;
                case PgBackend.ReadyForQuery:
                    throw Fail(target, PgSqlState.ConnectionFailure, failure);
                default:
                    throw Fail(target, PgSqlState.ProtocolViolation, $"sent unexpected message '{PgConnection.Printable(type)}' answering the search_path query");
            }
        }
    }

    /// <summary>Forwards a client's cancel request to the upstream session it belongs to.</summary>
    public static async Task SendCancelAsync(EndPoint upstream, int processId, int secretKey, CancellationToken ct)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(upstream, ct);
        var packet = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(packet, 16);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), PgStartupCodes.CancelRequest);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), processId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), secretKey);
        await socket.SendAsync(packet, ct);
        // The server closes the connection once it has read the request.
        await socket.ReceiveAsync(new byte[1], ct);
    }

    private static PgProtocolException Fail(PgTarget target, string sqlState, string what)
        => new(sqlState, $"upstream of target '{target.Name}' {what}");
}
