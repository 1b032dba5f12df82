using System.Buffers.Binary;
using System.Text;
using Appliance.Masking;
using CsCheck;

namespace Appliance.Tests.Masking;

public sealed class MaskPlanTests
{
    private static readonly byte[] s_key = new byte[32];

    private static MaskPlan Plan(bool[] masked, MaskStrategy strategy, uint type = 25, short format = 0)
        => new(masked, masked.Select(_ => strategy).ToArray(), masked.Select(_ => type).ToArray(), masked.Select(_ => format).ToArray(), masked.Select(_ => (System.Security.Cryptography.IncrementalHash?)ValueMasker.Hmac(s_key)).ToArray(), null);

    private static byte[] Row(params string?[] values)
    {
        var bytes = new List<byte> { 0, 0 };
        BinaryPrimitives.WriteInt16BigEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes), (short)values.Length);
        foreach (var v in values)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, v is null ? -1 : Encoding.UTF8.GetByteCount(v));
            bytes.AddRange(length);
            if (v is not null) bytes.AddRange(Encoding.UTF8.GetBytes(v));
        }
        return [.. bytes];
    }

    private static string?[] Parse(ReadOnlySpan<byte> message)
    {
        Assert.Equal((byte)'D', message[0]);
        Assert.Equal(message.Length - 1, BinaryPrimitives.ReadInt32BigEndian(message[1..]));
        var payload = message[5..];
        int count = BinaryPrimitives.ReadInt16BigEndian(payload);
        var values = new string?[count];
        int pos = 2;
        for (int i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(payload[pos..]);
            pos += 4;
            values[i] = length < 0 ? null : Encoding.UTF8.GetString(payload.Slice(pos, length));
            pos += Math.Max(length, 0);
        }
        Assert.Equal(payload.Length, pos);
        return values;
    }

    private static string?[] Mask(MaskPlan plan, byte[] row)
    {
        var buffer = new byte[plan.MaxMaskedLength(row.Length)];
        int n = plan.WriteMasked(row, buffer);
        Assert.True(n > 0);
        return Parse(buffer.AsSpan(0, n));
    }

    [Theory]
    [InlineData("ada@example.com", 4, "***********.com")]
    [InlineData("abc", 4, "***")]
    [InlineData("ünïcødé", 3, "****ødé")]
    [InlineData("", 4, "")]
    public void Partial_KeepsTheLastCharacters(string value, int keep, string expected)
        => Assert.Equal(expected, Mask(Plan([true], new MaskStrategy(MaskKind.Partial, keep)), Row(value))[0]);

    [Fact]
    public void Redact_Hash_NullAndUnsupportedTypes()
    {
        Assert.Equal("****", Mask(Plan([true], MaskStrategy.Redact), Row("secret"))[0]);
        Assert.Null(Mask(Plan([true], MaskStrategy.Redact), Row([null]))[0]);
        Assert.Null(Mask(Plan([true], MaskStrategy.Redact, type: 23), Row("4242"))[0]);
        Assert.Equal("\"****\"", Mask(Plan([true], MaskStrategy.Redact, type: 114), Row("{\"a\":1}"))[0]);
        var hash = Mask(Plan([true], new MaskStrategy(MaskKind.Hash)), Row("x"))[0]!;
        Assert.Matches("^[0-9a-f]{16}$", hash);
        Assert.Equal(hash, Mask(Plan([true], new MaskStrategy(MaskKind.Hash)), Row("x"))[0]);
        Assert.NotEqual(hash, Mask(Plan([true], new MaskStrategy(MaskKind.Hash)), Row("y"))[0]);
        // jsonb in binary: a version byte, then JSON text.
        var plan = Plan([true], MaskStrategy.Redact, type: 3802, format: 1);
        var masked = Mask(plan, Row("\u0001{\"a\":1}"))[0]!;
        Assert.Equal("\u0001\"****\"", masked);
    }

    [Fact]
    public void Malformed_RowsAreRejected()
    {
        var plan = Plan([true, false], MaskStrategy.Redact);
        var buffer = new byte[256];
        Assert.Equal(-1, plan.WriteMasked(Row("one"), buffer));
        var row = Row("a", "b");
        Assert.Equal(-1, plan.WriteMasked(row.AsSpan(0, row.Length - 1), buffer));
        Assert.Equal(-1, plan.WriteMasked([.. row, 0], buffer));
    }

    /// <summary>Any row: masked columns never carry their value, the others come through byte for byte.</summary>
    [Fact]
    public void AnyRow_MasksExactlyTheMaskedColumns()
    {
        var value = Gen.String[Gen.Char["abcxyz09@.é€ü *,\"\\\t"], 0, 40].Null();
        Gen.Select(Gen.Select(value, Gen.Bool).Array[1, 12], Gen.OneOfConst(MaskKind.Redact, MaskKind.Partial, MaskKind.Hash)).Sample((columns, kind) =>
        {
            var plan = Plan(columns.Select(c => c.Item2).ToArray(), new MaskStrategy(kind, 2));
            var output = Mask(plan, Row(columns.Select(c => c.Item1).ToArray()));
            for (int i = 0; i < columns.Length; i++)
            {
                var (original, masked) = columns[i];
                if (!masked || original is null)
                {
                    Assert.Equal(original, output[i]);
                }
                else
                {
                    var text = output[i]!;
                    switch (kind)
                    {
                        case MaskKind.Redact: Assert.Equal("****", text); break;
                        case MaskKind.Hash: Assert.Matches("^[0-9a-f]{16}$", text); break;
                        default:
                            int characters = new System.Globalization.StringInfo(original).LengthInTextElements;
                            Assert.True(text.Length <= original.Length);
                            Assert.StartsWith(new string('*', Math.Min(1, characters)), text);
                            break;
                    }
                }
            }
        });
    }

    [Theory]
    [InlineData(false, "1\tAda\tada@example.com\n", "1\tAda\t****\n")]
    [InlineData(false, "2\tA\\tB\t\\N\n", "2\tA\\tB\t\\N\n")]
    [InlineData(true, "1,\"Lovelace, Ada\",\"a,\"\"b\"\"@x\"\n", "1,\"Lovelace, Ada\",****\n")]
    [InlineData(true, "3,,\n", "3,,\n")]
    public void CopyRows_TextAndCsv_MaskTheRightField(bool csv, string row, string expected)
    {
        var plan = Plan([false, false, true], MaskStrategy.Redact);
        var format = csv ? CopyFormat.CsvDefault : CopyFormat.Text;
        var buffer = new byte[plan.MaxMaskedLength(row.Length)];
        int n = plan.WriteMaskedCopyRow(Encoding.UTF8.GetBytes(row), format, buffer);
        Assert.True(n > 0);
        Assert.Equal((byte)'d', buffer[0]);
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer, 5, n - 5));
    }

    [Fact]
    public void CopyRow_WithTooManyFields_IsRejected()
    {
        var plan = Plan([false, true], MaskStrategy.Redact);
        Assert.Equal(-1, plan.WriteMaskedCopyRow("1\t2\t3\n"u8, CopyFormat.Text, new byte[64]));
    }
}
