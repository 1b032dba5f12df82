using System.Text;
using Appliance.Protocols.Postgres.Auth;

namespace Appliance.Protocols.Tests.Auth;

public class SaslPrepTests
{
    [Theory]
    [InlineData("pencil")]
    [InlineData("a\tb\u007f")] // ASCII controls: PostgreSQL keeps ASCII passwords as they are
    [InlineData("p\u00e4ssw\u00f6rd")] // precomposed letters: already prepared
    [InlineData("\u05d0\u05d1\u05d2")] // right-to-left only: allowed by the bidi rule
    public void Prepare_AlreadyPreparedPassword_IsItsUtf8(string password)
    {
        Assert.Equal(Encoding.UTF8.GetBytes(password), SaslPrep.Prepare(password));
    }

    [Theory]
    [InlineData("soft\u00adhyphen", "softhyphen")] // B.1 mapped to nothing
    [InlineData("zero\u200dwidth\ufeff", "zerowidth")] // B.1
    [InlineData("nb\u00a0sp\u3000", "nb sp ")] // C.1.2 mapped to space
    [InlineData("zw\u200bsp", "zw sp")] // in both C.1.2 and B.1: PostgreSQL maps it to space
    [InlineData("\u05d0\u00ad\u05d1", "\u05d0\u05d1")]
    public void Prepare_MappedCharacters_AreMapped(string password, string expected)
    {
        Assert.Equal(Encoding.UTF8.GetBytes(expected), SaslPrep.Prepare(password));
    }

    [Theory]
    [InlineData("\u00ad")] // empty after mapping
    [InlineData("a\u00ad\u0085")] // C.2.2 control
    [InlineData("a\u00ad\ue000")] // C.3 private use
    [InlineData("a\u00ad\ufdd0")] // C.4 non-character
    [InlineData("a\u00ad\u200e")] // C.8 left-to-right mark
    [InlineData("a\u00ad\U000E0041")] // C.9 tag
    [InlineData("a\u00ad\u0378")] // unassigned today
    [InlineData("\U0001F600\u00adx")] // assigned today, unassigned in Unicode 3.2 (A.1): PostgreSQL uses the raw bytes
    [InlineData("\u2615\u00adx")] // likewise, in the BMP
    [InlineData("a\u00ad\u05d0")] // RandALCat mixed with a left-to-right letter
    [InlineData("\u05d0\u00ad\u0e01\u05d1")] // RandALCat mixed with a Thai letter (D.2)
    [InlineData("\u05d0\u00ad\u05d11")] // RandALCat string not ending with RandALCat
    public void Prepare_RefusedBySaslPrep_UsesRawBytes(string password)
    {
        Assert.Equal(Encoding.UTF8.GetBytes(password), SaslPrep.Prepare(password));
    }

    [Fact]
    public void Prepare_CompatibilityCharacter_NormalizedWhenRuntimeCan()
    {
        // Under invariant globalization (this repository's setting) the runtime cannot apply NFKC; the documented
        // fallback is the mapped, unnormalized string.
        string expected = SaslPrep.CanNormalize ? "fix" : "\ufb01x";

        Assert.Equal(Encoding.UTF8.GetBytes(expected), SaslPrep.Prepare("\ufb01\u00adx"));
    }
}
