using System.Text;
using CsCheck;

namespace Appliance.Storage.Tests;

public sealed class Crc32CTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xE3069283u)]
    [InlineData("a", 0xC1D04330u)]
    public void Compute_KnownVectors(string text, uint expected)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        Assert.Equal(expected, Crc32C.Compute(bytes));
        Assert.Equal(expected, ~Crc32C.UpdateSoftware(~0u, bytes));
    }

    [Fact]
    public void Compute_Rfc3720Vectors()
    {
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
    }

    [Fact]
    public void HardwareAndTable_Agree_AndAppendEqualsWhole()
    {
        Gen.Byte.Array[0, 2000].Select(Gen.Int[0, 2000]).Sample((bytes, cut) =>
        {
            cut = Math.Min(cut, bytes.Length);
            var whole = Crc32C.Compute(bytes);
            Assert.Equal(whole, ~Crc32C.UpdateSoftware(~0u, bytes));
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(bytes.AsSpan(0, cut)), bytes.AsSpan(cut)));
        });
    }
}
