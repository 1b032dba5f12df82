using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Appliance.Protocols.Postgres;

namespace Appliance.Protocols.Tests.Postgres;

public sealed class PgStartupReaderTests
{
    private static byte[] Startup(params string[] pairs)
    {
        var body = Encoding.UTF8.GetBytes(string.Concat(pairs.Select(p => p + "\0")) + "\0");
        var bytes = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, bytes.Length);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), PgStartupCodes.Protocol30);
        body.CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void TryRead_StartupMessageAnySegmentation_ParsesParameters()
    {
        var bytes = Startup("user", "ci", "database", "orders", "application_name", "psql");
        foreach (var (name, seq) in Segments.Variants(bytes))
        {
            var reader = new SequenceReader<byte>(seq);
            Assert.True(PgStartupReader.TryRead(ref reader, 10_000, out var packet) == OperationStatus.Done, name);
            Assert.Equal(3, packet.ProtocolMajor);
            Assert.Equal(0, packet.ProtocolMinor);
            var parameters = new List<KeyValuePair<string, string>>();
            Assert.True(PgStartupReader.TryParseParameters(packet.Body, parameters, out var error), error);
            Assert.Equal(["user=ci", "database=orders", "application_name=psql"], parameters.Select(p => $"{p.Key}={p.Value}"));
        }
    }

    [Fact]
    public void TryRead_EveryPrefix_NeedsMoreData()
    {
        var bytes = Startup("user", "ci");
        for (int n = 0; n < bytes.Length; n++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes[..n]));
            Assert.Equal(OperationStatus.NeedMoreData, PgStartupReader.TryRead(ref reader, 10_000, out _));
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void TryRead_SslRequest_Recognised()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 8);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), PgStartupCodes.SslRequest);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(OperationStatus.Done, PgStartupReader.TryRead(ref reader, 10_000, out var packet));
        Assert.True(packet.IsSslRequest);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(10_001)]
    [InlineData(-8)]
    public void TryRead_LengthOutOfBounds_InvalidDataFromTheLengthWordAlone(int length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(OperationStatus.InvalidData, PgStartupReader.TryRead(ref reader, 10_000, out var packet));
        Assert.Equal(length, packet.Length);
    }

    [Theory]
    [InlineData("user\0ci\0")]                 // no final terminator
    [InlineData("user\0")]                     // name without value
    [InlineData("user\0a\0user\0b\0\0")]       // repeated
    [InlineData("user\0ci\0\0junk")]          // trailing bytes
    [InlineData("invalid-utf8")]
    public void TryParseParameters_Malformed_RefusedWithReason(string body)
    {
        var bytes = body == "invalid-utf8" ? [0x75, 0xFF, 0x00, 0x63, 0x00, 0x00] : Encoding.UTF8.GetBytes(body);
        var parameters = new List<KeyValuePair<string, string>>();
        Assert.False(PgStartupReader.TryParseParameters(new ReadOnlySequence<byte>(bytes), parameters, out var error));
        Assert.NotEmpty(error);
    }
}
