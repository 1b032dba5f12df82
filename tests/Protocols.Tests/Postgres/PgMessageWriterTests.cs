using System.Buffers;
using Appliance.Protocols.Postgres;

namespace Appliance.Protocols.Tests.Postgres;

public sealed class PgMessageWriterTests
{
    private static PgFrame ReadBack(ArrayBufferWriter<byte> written)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(written.WrittenMemory));
        Assert.Equal(OperationStatus.Done, PgFrameReader.TryRead(ref reader, 1 << 20, out var frame));
        Assert.True(reader.End, "the writer's length word must cover exactly what it wrote");
        return frame;
    }

    [Fact]
    public void WriteError_FieldsParseBack()
    {
        var w = new ArrayBufferWriter<byte>();
        PgMessageWriter.WriteError(w, "FATAL", "28P01", "token rejected: expired ✓");
        var frame = ReadBack(w);
        Assert.Equal(PgBackend.ErrorResponse, frame.Type);
        Assert.Equal(new PgErrorFields("FATAL", "28P01", "token rejected: expired ✓"), PgErrorFields.Parse(frame.Payload));
    }

    [Fact]
    public void WriteError_NulInMessage_DoesNotEndTheFieldEarly()
    {
        var w = new ArrayBufferWriter<byte>();
        PgMessageWriter.WriteError(w, "ERROR", "42501", "a\0b");
        Assert.Equal("a b", PgErrorFields.Parse(ReadBack(w).Payload).Message);
    }

    [Fact]
    public void WriteStartupMessage_ReadsBackThroughStartupReader()
    {
        var w = new ArrayBufferWriter<byte>();
        PgMessageWriter.WriteStartupMessage(w, [new("user", "gw"), new("database", "orders")]);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(w.WrittenMemory));
        Assert.Equal(OperationStatus.Done, PgStartupReader.TryRead(ref reader, 10_000, out var packet));
        var parameters = new List<KeyValuePair<string, string>>();
        Assert.True(PgStartupReader.TryParseParameters(packet.Body, parameters, out _));
        Assert.Equal(["user", "database"], parameters.Select(p => p.Key));
    }

    [Fact]
    public void WriteBackendKeyDataAndReadyForQuery_HaveProtocolLengths()
    {
        var w = new ArrayBufferWriter<byte>();
        PgMessageWriter.WriteBackendKeyData(w, 42, -7);
        Assert.Equal(13, ReadBack(w).WireLength);
        w.Clear();
        PgMessageWriter.WriteReadyForQuery(w, PgReadyStatus.Idle);
        var rfq = ReadBack(w);
        Assert.Equal(6, rfq.WireLength);
        Assert.Equal((byte)'I', rfq.Payload.FirstSpan[0]);
    }
}
