using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>
/// Writes log entries to journald's native socket, so the structured values of a message and its scopes
/// (SessionId, Principal, Target, Class, Rule …) become journal fields (SESSIONID=…, PRINCIPAL=…) next to
/// MESSAGE and PRIORITY: <c>journalctl -u appliance PRINCIPAL=repo:acme/shop</c>. Used when the service runs
/// under systemd (JOURNAL_STREAM set) and the socket exists; otherwise the console logger is used.
/// </summary>
internal sealed class JournalLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    public const string DefaultSocket = "/run/systemd/journal/socket";

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endPoint;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public JournalLoggerProvider(string socketPath = DefaultSocket) => _endPoint = new UnixDomainSocketEndPoint(socketPath);

    public ILogger CreateLogger(string categoryName) => new JournalLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() => _socket.Dispose();

    private void Send(byte[] entry, int length)
    {
        try
        {
            _socket.SendTo(entry.AsSpan(0, length), SocketFlags.None, _endPoint);
        }
        catch (SocketException)
        {
            // journald is gone or the entry is too large; logging must never take the service down.
        }
    }

    private static int Priority(LogLevel level) => level switch
    {
        LogLevel.Critical => 2,
        LogLevel.Error => 3,
        LogLevel.Warning => 4,
        LogLevel.Information => 6,
        _ => 7,
    };

    private sealed class JournalLogger(JournalLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var entry = new JournalEntry();
            entry.Add("MESSAGE", exception is null ? formatter(state, null) : $"{formatter(state, exception)}: {exception.Message}");
            entry.Add("PRIORITY", Priority(logLevel).ToString(System.Globalization.CultureInfo.InvariantCulture));
            entry.Add("SYSLOG_IDENTIFIER", "appliance");
            entry.Add("LOGGER", category);
            entry.AddValues(state);
            provider._scopes.ForEachScope(static (scope, e) => e.AddValues(scope), entry);
            provider.Send(entry.Buffer, entry.Length);
        }
    }

    /// <summary>One entry in the native format: KEY=value lines, or KEY, a 64-bit length and raw bytes for multi-line values.</summary>
    private sealed class JournalEntry
    {
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        public byte[] Buffer = new byte[512];
        public int Length;

        public void AddValues(object? state)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    if (key != "{OriginalFormat}" && value is not null)
                    {
                        Add(FieldName(key), Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                    }
                }
            }
        }

        public void Add(string key, string value)
        {
            if (key.Length == 0 || !_keys.Add(key))
            {
                return;
            }
            var valueBytes = Encoding.UTF8.GetBytes(value);
            Ensure(key.Length + valueBytes.Length + 10);
            Length += Encoding.ASCII.GetBytes(key, Buffer.AsSpan(Length));
            if (Array.IndexOf(valueBytes, (byte)'\n') < 0)
            {
                Buffer[Length++] = (byte)'=';
            }
            else
            {
                Buffer[Length++] = (byte)'\n';
                BinaryPrimitives.WriteUInt64LittleEndian(Buffer.AsSpan(Length), (ulong)valueBytes.Length);
                Length += 8;
            }
            valueBytes.CopyTo(Buffer, Length);
            Length += valueBytes.Length;
            Buffer[Length++] = (byte)'\n';
        }

        private void Ensure(int more)
        {
            if (Length + more > Buffer.Length)
            {
                Array.Resize(ref Buffer, Math.Max(Buffer.Length * 2, Length + more));
            }
        }

        /// <summary>Journal field names are upper-case letters, digits and underscores, not starting with one.</summary>
        internal static string FieldName(string key)
        {
            var sb = new StringBuilder(key.Length);
            foreach (char c in key)
            {
                if (char.IsAsciiLetterOrDigit(c) || c == '_')
                {
                    sb.Append(char.ToUpperInvariant(c));
                }
            }
            while (sb.Length > 0 && (sb[0] == '_' || char.IsAsciiDigit(sb[0])))
            {
                sb.Remove(0, 1);
            }
            return sb.Length > 64 ? sb.ToString(0, 64) : sb.ToString();
        }
    }
}
