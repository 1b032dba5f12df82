using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using Appliance.Net;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>One side of a session: the socket, the stream over it (plain or TLS) and pipes over the stream.</summary>
internal sealed class PgConnection : IAsyncDisposable
{
    private static readonly StreamPipeWriterOptions s_writerOptions = new(minimumBufferSize: 4096, leaveOpen: true);
    private readonly StreamPipeReaderOptions _readerOptions;
    private readonly Stream _transport;

    public PgConnection(Socket socket, int readBufferSize)
        : this(socket, null, readBufferSize)
    {
    }

    /// <param name="transport">The stream over <paramref name="socket"/>, owning it; null: made here (see <see cref="EpollTransport"/>).</param>
    public PgConnection(Socket socket, Stream? transport, int readBufferSize)
    {
        Socket = socket;
        socket.NoDelay = true;
        Stream = _transport = transport ?? EpollTransport.CreateStream(socket);
        _readerOptions = new StreamPipeReaderOptions(bufferSize: readBufferSize, minimumReadSize: Math.Min(1024, readBufferSize / 2), leaveOpen: true);
        Reader = PipeReader.Create(Stream, _readerOptions);
        Writer = PipeWriter.Create(Stream, s_writerOptions);
    }

    public Socket Socket { get; }
    public Stream Stream { get; private set; }
    public PipeReader Reader { get; private set; }
    public PipeWriter Writer { get; private set; }
    public SslStream? Tls { get; private set; }

    /// <summary>Switches reader and writer to a TLS stream once the handshake is done.</summary>
    public void UseTls(SslStream tls)
    {
        Reader.Complete();
        Writer.Complete();
        Tls = tls;
        Stream = tls;
        Reader = PipeReader.Create(tls, _readerOptions);
        Writer = PipeWriter.Create(tls, s_writerOptions);
    }

    /// <summary>Reads one startup-phase packet, or null on end of stream. Bad packets become <see cref="PgProtocolException"/>.</summary>
    public async ValueTask<(PgStartupPacket Packet, byte[] Body, bool TrailingBytes)?> ReadStartupPacketAsync(int maxLength, CancellationToken ct)
    {
        while (true)
        {
            var result = await Reader.ReadAsync(ct);
            var buffer = result.Buffer;
            var status = TryTakeStartup(buffer, maxLength, out var packet, out var body, out var consumed);
            if (status == OperationStatus.Done)
            {
                bool trailing = !buffer.Slice(consumed).IsEmpty;
                Reader.AdvanceTo(consumed);
                return (packet, body, trailing);
            }
            if (status == OperationStatus.InvalidData)
            {
                throw new PgProtocolException(PgSqlState.ProtocolViolation, $"invalid startup packet length {packet.Length} (allowed 8..{maxLength})");
            }
            Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (buffer.IsEmpty) return null;
                throw new PgProtocolException(PgSqlState.ProtocolViolation, "incomplete startup packet");
            }
        }
    }

    private static OperationStatus TryTakeStartup(ReadOnlySequence<byte> buffer, int maxLength, out PgStartupPacket packet, out byte[] body, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var status = PgStartupReader.TryRead(ref reader, maxLength, out packet);
        body = status == OperationStatus.Done ? packet.Body.ToArray() : [];
        consumed = reader.Position;
        return status;
    }

    /// <summary>Reads one whole typed message (startup phase only: copies the payload), or null on end of stream.</summary>
    public async ValueTask<(byte Type, byte[] Payload)?> ReadMessageAsync(int maxLength, CancellationToken ct)
    {
        while (true)
        {
            var result = await Reader.ReadAsync(ct);
            var buffer = result.Buffer;
            var status = TryTakeMessage(buffer, maxLength, out byte type, out int length, out var payload, out var consumed);
            if (status == OperationStatus.Done)
            {
                Reader.AdvanceTo(consumed);
                return (type, payload);
            }
            if (status == OperationStatus.InvalidData)
            {
                throw new PgProtocolException(PgSqlState.ProtocolViolation, $"invalid length {length} for message type '{Printable(type)}'");
            }
            Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                if (buffer.IsEmpty) return null;
                throw new PgProtocolException(PgSqlState.ProtocolViolation, "connection closed in the middle of a message");
            }
        }
    }

    private static OperationStatus TryTakeMessage(ReadOnlySequence<byte> buffer, int maxLength, out byte type, out int length, out byte[] payload, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        var status = PgFrameReader.TryRead(ref reader, maxLength, out var frame);
        type = frame.Type;
        length = frame.Length;
        payload = status == OperationStatus.Done ? frame.Payload.ToArray() : [];
        consumed = reader.Position;
        return status;
    }

    /// <summary>Hands over bytes the login phase read but did not use, and retires the pipe reader.</summary>
    public System.Buffers.ReadOnlySequence<byte> TakeBuffered()
    {
        if (!Reader.TryRead(out var result) || result.Buffer.IsEmpty)
        {
            return default;
        }
        var copy = new System.Buffers.ReadOnlySequence<byte>(result.Buffer.ToArray());
        Reader.AdvanceTo(result.Buffer.End);
        return copy;
    }

    internal static char Printable(byte b) => b is >= 0x20 and < 0x7F ? (char)b : '?';

    public async ValueTask DisposeAsync()
    {
        await Reader.CompleteAsync();
        await Writer.CompleteAsync();
        await Stream.DisposeAsync();
        // An upstream's TLS stream leaves the transport open; the transport leaves the epoll loop before the socket closes.
        await _transport.DisposeAsync();
        Socket.Dispose();
    }
}
