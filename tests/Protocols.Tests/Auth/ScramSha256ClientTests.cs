using System.Security.Cryptography;
using System.Text;
using Appliance.Protocols.Postgres.Auth;
using CsCheck;

namespace Appliance.Protocols.Tests.Auth;

public class ScramSha256ClientTests
{
    // RFC 7677, section 3.
    private const string RfcNonce = "rOprNGfwEbeRWgbNEkqO";
    private const string RfcServerNonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string RfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string RfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string RfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static ScramSha256Client RfcClient() => new("pencil", RfcNonce, user: "user");

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    [Fact]
    public void Exchange_Rfc7677TestVector_MatchesEveryMessage()
    {
        var client = RfcClient();

        Assert.Equal("n,,n=user,r=" + RfcNonce, Text(client.CreateClientFirstMessage()));
        Assert.True(client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out byte[] clientFinal, out string error), error);
        Assert.Equal(RfcClientFinal, Text(clientFinal));
        Assert.True(client.VerifyServerFinal(Bytes(RfcServerFinal), out error), error);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void Exchange_WithCache_DerivesOnceAndReusesOnlyForTheSameSaltAndIterations()
    {
        var cache = new ScramSaltedPasswordCache();
        for (int i = 0; i < 2; i++)
        {
            var client = new ScramSha256Client("pencil", RfcNonce, user: "user", cache);
            client.CreateClientFirstMessage();
            Assert.True(client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out byte[] clientFinal, out string error), error);
            Assert.Equal(RfcClientFinal, Text(clientFinal));
            Assert.True(client.VerifyServerFinal(Bytes(RfcServerFinal), out error), error);
        }

        // The cache is what the second exchange used: poisoned for this salt, the proof changes...
        cache.Set(Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096, new byte[32]);
        var poisoned = new ScramSha256Client("pencil", RfcNonce, user: "user", cache);
        poisoned.CreateClientFirstMessage();
        Assert.True(poisoned.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out byte[] wrong, out _));
        Assert.NotEqual(RfcClientFinal, Text(wrong));

        // ...while another iteration count derives afresh.
        cache.Set(Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 8192, new byte[32]);
        var fresh = new ScramSha256Client("pencil", RfcNonce, user: "user", cache);
        fresh.CreateClientFirstMessage();
        Assert.True(fresh.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out byte[] right, out _));
        Assert.Equal(RfcClientFinal, Text(right));
    }

    [Fact]
    public void CreateClientFirstMessage_PublicConstructor_SendsEmptyUserAndGs2HeaderWithoutChannelBinding()
    {
        var client = new ScramSha256Client("pencil", RfcNonce);

        Assert.Equal("n,,n=,r=" + RfcNonce, Text(client.CreateClientFirstMessage()));
    }

    [Fact]
    public void CreateClientFirstMessage_RandomNonce_IsPrintableAndDiffersPerClient()
    {
        string first = Text(new ScramSha256Client("pencil").CreateClientFirstMessage());
        string second = Text(new ScramSha256Client("pencil").CreateClientFirstMessage());

        Assert.StartsWith("n,,n=,r=", first, StringComparison.Ordinal);
        string nonce = first["n,,n=,r=".Length..];
        Assert.True(nonce.Length >= 24, nonce);
        Assert.DoesNotContain(',', nonce);
        Assert.All(nonce, c => Assert.InRange(c, '!', '~'));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Exchange_EmptyUserName_ProofMatchesIndependentComputation()
    {
        // The proof covers client-first-message-bare, so with "n=" it differs from the RFC's; recompute it from RFC 5802's
        // definitions to make sure the bare message we send is the one we sign.
        var client = new ScramSha256Client("pencil", RfcNonce);
        client.CreateClientFirstMessage();
        Assert.True(client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out byte[] clientFinal, out string error), error);

        string withoutProof = "c=biws,r=" + RfcServerNonce;
        string authMessage = "n=,r=" + RfcNonce + "," + RfcServerFirst + "," + withoutProof;
        byte[] salted = Rfc2898DeriveBytes.Pbkdf2(Bytes("pencil"), Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096, HashAlgorithmName.SHA256, 32);
        byte[] clientKey = HMACSHA256.HashData(salted, Bytes("Client Key"));
        byte[] signature = HMACSHA256.HashData(SHA256.HashData(clientKey), Bytes(authMessage));
        byte[] proof = clientKey.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
        Assert.Equal(withoutProof + ",p=" + Convert.ToBase64String(proof), Text(clientFinal));

        byte[] serverSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, Bytes("Server Key")), Bytes(authMessage));
        Assert.True(client.VerifyServerFinal(Bytes("v=" + Convert.ToBase64String(serverSignature)), out error), error);
    }

    [Theory]
    [InlineData("r=rOprNGfwEbeRWgbNEkqX%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // changed client part
    [InlineData("r=XrOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // prefixed
    [InlineData("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // server added nothing
    [InlineData("r=rOprNGfwEbe,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // truncated
    public void TryCreateClientFinalMessage_NonceMismatch_Refused(string serverFirst)
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();

        Assert.False(client.TryCreateClientFinalMessage(Bytes(serverFirst), out byte[] clientFinal, out string error));
        Assert.Empty(clientFinal);
        Assert.Contains("nonce", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1", "below")]
    [InlineData("4095", "below")]
    [InlineData("0", "below")]
    [InlineData("1000001", "above")]
    [InlineData("2147483647", "above")]
    [InlineData("9999999999", "above")]
    public void TryCreateClientFinalMessage_IterationCountOutOfRange_Refused(string iterations, string expected)
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();

        string serverFirst = $"r={RfcServerNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i={iterations}";
        Assert.False(client.TryCreateClientFinalMessage(Bytes(serverFirst), out _, out string error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCreateClientFinalMessage_IterationCountAtBounds_Accepted()
    {
        foreach (int iterations in new[] { ScramSha256Client.MinIterations, 10_000 })
        {
            var client = RfcClient();
            client.CreateClientFirstMessage();
            string serverFirst = $"r={RfcServerNonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i={iterations}";
            Assert.True(client.TryCreateClientFinalMessage(Bytes(serverFirst), out _, out string error), error);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("r=")]
    [InlineData("garbage")]
    [InlineData("s=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096")] // wrong order
    [InlineData("m=ext,r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // mandatory extension
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==")] // no iteration count
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,i=4096")] // no salt
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=,i=4096")] // empty salt
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096")] // unpadded
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7s EsUEjb6gQ==,i=4096")] // whitespace in salt
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7so_sUEjb6gQ==,i=4096")] // base64url alphabet
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=")] // empty count
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=+4096")]
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096")]
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096 ")]
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,")] // trailing comma
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=1")] // trailing attribute
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hv\tYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // unprintable nonce
    [InlineData("r=rOprNGfwEbeRWgbNEkqO%hv\u00e9YD,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")] // non-ASCII nonce
    public void TryCreateClientFinalMessage_MalformedServerFirst_Refused(string serverFirst)
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();

        Assert.False(client.TryCreateClientFinalMessage(Bytes(serverFirst), out byte[] clientFinal, out string error));
        Assert.Empty(clientFinal);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void TryCreateClientFinalMessage_EveryStrictPrefixOfValidMessage_Refused()
    {
        byte[] valid = Bytes(RfcServerFirst);
        for (int length = 0; length < valid.Length; length++)
        {
            var client = RfcClient();
            client.CreateClientFirstMessage();
            Assert.False(client.TryCreateClientFinalMessage(valid.AsSpan(0, length), out _, out _), $"prefix of {length} bytes accepted");
        }
    }

    [Fact]
    public void TryCreateClientFinalMessage_TooLong_Refused()
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();
        string serverFirst = "r=" + RfcServerNonce + new string('x', ScramSha256Client.MaxServerMessageLength) + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

        Assert.False(client.TryCreateClientFinalMessage(Bytes(serverFirst), out _, out string error));
        Assert.Contains("too long", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCreateClientFinalMessage_ArbitraryBytes_NeverThrows()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var client = RfcClient();
            client.CreateClientFirstMessage();
            client.TryCreateClientFinalMessage(bytes, out _, out _);
        });
    }

    [Theory]
    [InlineData("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G8=")] // last data bits changed
    [InlineData("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")] // first byte changed
    [InlineData("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public void VerifyServerFinal_WrongSignature_Refused(string serverFinal)
    {
        var client = ClientAtFinal();

        Assert.False(client.VerifyServerFinal(Bytes(serverFinal), out string error));
        Assert.Contains("does not match", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("v=")]
    [InlineData("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4")] // unpadded
    [InlineData("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl9")] // too short
    [InlineData("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=AAAA")] // too long
    [InlineData("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=1")] // trailing attribute
    [InlineData("x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")]
    [InlineData(" v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")]
    public void VerifyServerFinal_Malformed_Refused(string serverFinal)
    {
        var client = ClientAtFinal();

        Assert.False(client.VerifyServerFinal(Bytes(serverFinal), out string error));
        Assert.StartsWith("malformed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void VerifyServerFinal_ServerError_RefusedWithEscapedReason()
    {
        var client = ClientAtFinal();

        Assert.False(client.VerifyServerFinal(Bytes("e=invalid-proof\n\u0001"), out string error));
        Assert.Equal("server reported SCRAM error: invalid-proof??", error);
    }

    [Fact]
    public void VerifyServerFinal_ServerErrorTooLong_IsCapped()
    {
        var client = ClientAtFinal();

        Assert.False(client.VerifyServerFinal(Bytes("e=" + new string('a', 1000)), out string error));
        Assert.True(error.Length < 120, error);
        Assert.EndsWith("...", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_OutOfOrder_Throw()
    {
        var client = RfcClient();
        Assert.Throws<InvalidOperationException>(() => client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out _, out _));
        Assert.Throws<InvalidOperationException>(() => client.VerifyServerFinal(Bytes(RfcServerFinal), out _));

        client.CreateClientFirstMessage();
        Assert.Throws<InvalidOperationException>(() => client.CreateClientFirstMessage());
        Assert.Throws<InvalidOperationException>(() => client.VerifyServerFinal(Bytes(RfcServerFinal), out _));
    }

    [Fact]
    public void Steps_AfterRefusedServerFirst_CannotContinue()
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();
        Assert.False(client.TryCreateClientFinalMessage(Bytes("garbage"), out _, out _));

        Assert.Throws<InvalidOperationException>(() => client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out _, out _));
        Assert.Throws<InvalidOperationException>(() => client.VerifyServerFinal(Bytes(RfcServerFinal), out _));
    }

    [Fact]
    public void VerifyServerFinal_SecondCallAfterFailure_Throws()
    {
        var client = ClientAtFinal();
        Assert.False(client.VerifyServerFinal(Bytes("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), out _));

        Assert.Throws<InvalidOperationException>(() => client.VerifyServerFinal(Bytes(RfcServerFinal), out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b")]
    [InlineData("with space")]
    [InlineData("caf\u00e9")]
    public void Constructor_InvalidTestNonce_Throws(string nonce)
    {
        Assert.Throws<ArgumentException>(() => new ScramSha256Client("pencil", nonce));
    }

    [Fact]
    public void Constructor_UnpairedSurrogateInPassword_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ScramSha256Client("pen\ud800cil"));
    }

    private static ScramSha256Client ClientAtFinal()
    {
        var client = RfcClient();
        client.CreateClientFirstMessage();
        Assert.True(client.TryCreateClientFinalMessage(Bytes(RfcServerFirst), out _, out string error), error);
        return client;
    }
}
