using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Appliance.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Tests.Hosting;

public sealed class JournalLoggerProviderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("appliance-journal-").FullName;
    private readonly Socket _journal = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public JournalLoggerProviderTests() => _journal.Bind(new UnixDomainSocketEndPoint(SocketPath));

    private string SocketPath => Path.Combine(_dir, "journal.sock");

    public void Dispose()
    {
        _journal.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Reads one native-protocol entry into its fields.</summary>
    private Dictionary<string, string> Receive()
    {
        var buffer = new byte[65536];
        _journal.ReceiveTimeout = 10_000;
        int n = _journal.Receive(buffer);
        var fields = new Dictionary<string, string>();
        int pos = 0;
        while (pos < n)
        {
            int end = Array.IndexOf(buffer, (byte)'\n', pos, n - pos);
            int eq = Array.IndexOf(buffer, (byte)'=', pos, end - pos);
            if (eq >= 0)
            {
                fields[Encoding.ASCII.GetString(buffer, pos, eq - pos)] = Encoding.UTF8.GetString(buffer, eq + 1, end - eq - 1);
                pos = end + 1;
            }
            else
            {
                var key = Encoding.ASCII.GetString(buffer, pos, end - pos);
                int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(end + 1));
                fields[key] = Encoding.UTF8.GetString(buffer, end + 9, length);
                pos = end + 9 + length + 1;
            }
        }
        return fields;
    }

    [Fact]
    public void Log_StructuredValuesAndScopes_BecomeJournalFields()
    {
        using var factory = LoggerFactory.Create(b => b.AddProvider(new JournalLoggerProvider(SocketPath)));
        var logger = factory.CreateLogger("Appliance.Postgres.Session");
        using (logger.BeginScope("session {SessionId} from {Client}", 42, "127.0.0.1:5555"))
        {
            logger.LogWarning("decision deny for {Principal} on target {Target}: {Refusal}", "repo:acme/shop", "orders", "line one\nline two");
        }
        var fields = Receive();
        Assert.Equal("4", fields["PRIORITY"]);
        Assert.Equal("repo:acme/shop", fields["PRINCIPAL"]);
        Assert.Equal("orders", fields["TARGET"]);
        Assert.Equal("42", fields["SESSIONID"]);
        Assert.Equal("line one\nline two", fields["REFUSAL"]);
        Assert.StartsWith("decision deny for repo:acme/shop on target orders", fields["MESSAGE"]);
        Assert.Equal("appliance", fields["SYSLOG_IDENTIFIER"]);
        Assert.False(fields.ContainsKey("{ORIGINALFORMAT}"));
    }

    [Fact]
    public void EntryScopedLogger_EachEntryCarriesTheScope_AndNoScopeStaysOpen()
    {
        using var factory = LoggerFactory.Create(b => b.AddProvider(new JournalLoggerProvider(SocketPath)));
        var inner = factory.CreateLogger("Appliance.Postgres.Session");
        var session = new EntryScopedLogger(inner, "session {SessionId} from {Client}", 7, "127.0.0.1:6000");
        session.LogInformation("session started for {Principal}", "repo:acme/shop");
        var first = Receive();
        Assert.Equal("7", first["SESSIONID"]);
        Assert.Equal("127.0.0.1:6000", first["CLIENT"]);
        Assert.Equal("repo:acme/shop", first["PRINCIPAL"]);
        // The scope ended with the entry: nothing is left in the execution context for what runs next.
        inner.LogInformation("listener line");
        Assert.False(Receive().ContainsKey("SESSIONID"));
    }

    [Fact]
    public void Log_JournalGone_DoesNotThrow()
    {
        using var provider = new JournalLoggerProvider(Path.Combine(_dir, "missing.sock"));
        provider.CreateLogger("x").LogError("still running");
    }
}
