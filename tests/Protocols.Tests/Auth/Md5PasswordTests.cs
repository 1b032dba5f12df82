using System.Text;
using Appliance.Protocols.Postgres.Auth;

namespace Appliance.Protocols.Tests.Auth;

public class Md5PasswordTests
{
    [Fact]
    public void Compute_KnownValue_MatchesHashlibReference()
    {
        // python3: h = md5(b"secret" + b"postgres").hexdigest(); "md5" + md5(h.encode() + bytes([1, 2, 3, 4])).hexdigest()
        byte[] answer = Md5Password.Compute("postgres", "secret", [1, 2, 3, 4]);

        Assert.Equal("md5bb41a296aab6baccb36ff243a562abff", Encoding.ASCII.GetString(answer));
        Assert.Equal(Md5Password.ResultLength, answer.Length);
    }

    [Fact]
    public void Compute_DifferentSalt_DifferentAnswer()
    {
        byte[] a = Md5Password.Compute("postgres", "secret", [1, 2, 3, 4]);
        byte[] b = Md5Password.Compute("postgres", "secret", [1, 2, 3, 5]);

        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    public void Compute_SaltNotFourBytes_Throws(int length)
    {
        Assert.Throws<ArgumentException>(() => Md5Password.Compute("postgres", "secret", new byte[length]));
    }
}
