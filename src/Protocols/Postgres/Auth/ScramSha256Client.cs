using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Appliance.Protocols.Postgres.Auth;

/// <summary>
/// Client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel binding
/// (gs2 header "n,,"), empty user name (the server takes it from the StartupMessage, as libpq does).
/// One instance per authentication exchange; the PostgreSQL message framing is the caller's.
/// </summary>
/// <remarks>
/// Use: <see cref="CreateClientFirstMessage"/> for SASLInitialResponse, <see cref="TryCreateClientFinalMessage"/>
/// with the AuthenticationSASLContinue data, <see cref="VerifyServerFinal"/> with the AuthenticationSASLFinal data.
/// The client must not treat the login as done before <see cref="VerifyServerFinal"/> returned true.
/// </remarks>
public sealed class ScramSha256Client
{
    /// <summary>The SASL mechanism name to choose from AuthenticationSASL.</summary>
    public const string MechanismName = "SCRAM-SHA-256";

    /// <summary>Lowest iteration count accepted (RFC 7677's minimum, PostgreSQL's default).</summary>
    public const int MinIterations = 4096;

    /// <summary>Highest iteration count accepted, so a hostile server cannot make us burn CPU for minutes.</summary>
    public const int MaxIterations = 1_000_000;

    /// <summary>Longest server message accepted (PostgreSQL's are about 100 bytes).</summary>
    public const int MaxServerMessageLength = 4096;

    private const int KeyLength = 32; // SHA-256
    private const int NonceRandomBytes = 18; // as libpq
    private const int MaxSaltLength = 1024;
    private const int MaxErrorEcho = 64;

    private static ReadOnlySpan<byte> Gs2Header => "n,,"u8;
    private static ReadOnlySpan<byte> ClientFinalPrefix => "c=biws,r="u8; // biws = base64("n,,")

    private readonly byte[] _clientFirstBare;
    private readonly int _clientNonceOffset;
    private byte[]? _password;
    private byte[]? _expectedServerSignature;
    private ExchangeState _state;

    /// <summary>Creates a client for one exchange. <paramref name="nonceForTests"/> replaces the random nonce (tests only).</summary>
    /// <exception cref="ArgumentException">The password holds unpaired surrogates, or the test nonce is not printable ASCII without ','.</exception>
    public ScramSha256Client(string password, string? nonceForTests = null)
        : this(password, nonceForTests, user: string.Empty)
    {
    }

    /// <summary>Creates a client for one exchange that reuses the SaltedPassword in <paramref name="cache"/> when the salt matches.</summary>
    public ScramSha256Client(string password, ScramSaltedPasswordCache cache)
        : this(password, nonceForTests: null, user: string.Empty, cache)
    {
    }

    private readonly ScramSaltedPasswordCache? _cache;

    /// <summary>Tests only: a user name in client-first-message (PostgreSQL ignores it; RFC 7677's test vector needs "user").</summary>
    internal ScramSha256Client(string password, string? nonceForTests, string user, ScramSaltedPasswordCache? cache = null)
    {
        _cache = cache;
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(user);
        string nonce = nonceForTests ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(NonceRandomBytes));
        if (nonce.Length == 0 || !Ascii.IsValid(nonce) || !IsPrintableNonce(Encoding.ASCII.GetBytes(nonce)))
        {
            throw new ArgumentException("The nonce must be printable ASCII without ','.", nameof(nonceForTests));
        }

        // client-first-message-bare = "n=" saslname ",r=" c-nonce
        string bare = "n=" + user.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal) + ",r=";
        _clientNonceOffset = Encoding.UTF8.GetByteCount(bare);
        _clientFirstBare = Encoding.UTF8.GetBytes(bare + nonce);
        _password = SaslPrep.Prepare(password);
    }

    private enum ExchangeState
    {
        Initial,
        FirstSent,
        FinalSent,
        Verified,
        Failed,
    }

    private ReadOnlySpan<byte> ClientNonce => _clientFirstBare.AsSpan(_clientNonceOffset);

    /// <summary>Returns client-first-message ("n,,n=,r=&lt;nonce&gt;"), the SASLInitialResponse data.</summary>
    /// <exception cref="InvalidOperationException">Called twice or after the exchange moved on.</exception>
    public byte[] CreateClientFirstMessage()
    {
        MoveFrom(ExchangeState.Initial, ExchangeState.FirstSent);
        byte[] message = new byte[Gs2Header.Length + _clientFirstBare.Length];
        Gs2Header.CopyTo(message);
        _clientFirstBare.CopyTo(message.AsSpan(Gs2Header.Length));
        return message;
    }

    /// <summary>
    /// Checks server-first-message (nonce extends ours, salt is base64, iteration count within
    /// [<see cref="MinIterations"/>, <see cref="MaxIterations"/>]) and computes client-final-message with the proof.
    /// </summary>
    /// <returns>False with a reason (no secrets in it) and an empty <paramref name="clientFinal"/> when the server message is refused; the exchange is then failed.</returns>
    /// <exception cref="InvalidOperationException">Called before <see cref="CreateClientFirstMessage"/> or twice.</exception>
    public bool TryCreateClientFinalMessage(ReadOnlySpan<byte> serverFirst, out byte[] clientFinal, out string error)
    {
        MoveFrom(ExchangeState.FirstSent, ExchangeState.Failed);
        clientFinal = [];
        if (!TryParseServerFirst(serverFirst, out ReadOnlySpan<byte> nonce, out byte[]? salt, out int iterations, out error))
        {
            ClearPassword();
            return false;
        }

        // client-final-message-without-proof = "c=biws,r=" nonce
        int withoutProofLength = ClientFinalPrefix.Length + nonce.Length;
        byte[] authMessage = new byte[_clientFirstBare.Length + 1 + serverFirst.Length + 1 + withoutProofLength];
        Span<byte> keys = stackalloc byte[KeyLength * 5];
        Span<byte> saltedPassword = keys[..KeyLength];
        Span<byte> clientKey = keys.Slice(KeyLength, KeyLength);
        Span<byte> storedKey = keys.Slice(KeyLength * 2, KeyLength);
        Span<byte> clientSignature = keys.Slice(KeyLength * 3, KeyLength);
        Span<byte> serverKey = keys.Slice(KeyLength * 4, KeyLength);
        try
        {
            Span<byte> cursor = authMessage;
            Append(ref cursor, _clientFirstBare);
            Append(ref cursor, ","u8);
            Append(ref cursor, serverFirst);
            Append(ref cursor, ","u8);
            Append(ref cursor, ClientFinalPrefix);
            Append(ref cursor, nonce);
            Debug.Assert(cursor.IsEmpty);

            if (_cache is null || !_cache.TryGet(salt, iterations, saltedPassword))
            {
                Rfc2898DeriveBytes.Pbkdf2(_password!, salt, saltedPassword, iterations, HashAlgorithmName.SHA256);
                _cache?.Set(salt, iterations, saltedPassword);
            }
            HMACSHA256.HashData(saltedPassword, "Client Key"u8, clientKey);
            SHA256.HashData(clientKey, storedKey);
            HMACSHA256.HashData(storedKey, authMessage, clientSignature);
            HMACSHA256.HashData(saltedPassword, "Server Key"u8, serverKey);
            _expectedServerSignature = HMACSHA256.HashData(serverKey, authMessage);

            // ClientProof = ClientKey XOR ClientSignature, written over ClientKey.
            for (int i = 0; i < KeyLength; i++)
            {
                clientKey[i] ^= clientSignature[i];
            }

            int proofLength = Base64.GetMaxEncodedToUtf8Length(KeyLength);
            byte[] message = new byte[withoutProofLength + 3 + proofLength];
            authMessage.AsSpan(authMessage.Length - withoutProofLength).CopyTo(message);
            ",p="u8.CopyTo(message.AsSpan(withoutProofLength));
            Base64.EncodeToUtf8(clientKey, message.AsSpan(withoutProofLength + 3), out _, out int written);
            Debug.Assert(written == proofLength);

            clientFinal = message;
            error = string.Empty;
            _state = ExchangeState.FinalSent;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys);
            ClearPassword();
        }
    }

    /// <summary>
    /// Checks server-final-message: "v=" with the expected server signature (constant-time compare), or "e=" (an error the
    /// server reports). True means the server proved it knows the password verifier; only then is the login trustworthy.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called before <see cref="TryCreateClientFinalMessage"/> succeeded, or twice.</exception>
    public bool VerifyServerFinal(ReadOnlySpan<byte> serverFinal, out string error)
    {
        MoveFrom(ExchangeState.FinalSent, ExchangeState.Failed);
        byte[] expected = _expectedServerSignature!;
        _expectedServerSignature = null;
        try
        {
            if (serverFinal.Length > MaxServerMessageLength)
            {
                error = "SCRAM server-final-message too long";
                return false;
            }

            if (serverFinal.StartsWith("e="u8))
            {
                error = "server reported SCRAM error: " + EscapeForError(serverFinal[2..]);
                return false;
            }

            if (!serverFinal.StartsWith("v="u8))
            {
                error = "malformed SCRAM server-final-message (expected v= or e=)";
                return false;
            }

            Span<byte> signature = stackalloc byte[KeyLength];
            if (!TryDecodeBase64Exact(serverFinal[2..], signature))
            {
                error = "malformed SCRAM server-final-message (server signature is not base64 of 32 bytes)";
                return false;
            }

            if (!CryptographicOperations.FixedTimeEquals(signature, expected))
            {
                error = "SCRAM server signature does not match: the server does not know the password";
                return false;
            }

            error = string.Empty;
            _state = ExchangeState.Verified;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    private bool TryParseServerFirst(ReadOnlySpan<byte> message, out ReadOnlySpan<byte> nonce, [NotNullWhen(true)] out byte[]? salt, out int iterations, out string error)
    {
        nonce = default;
        salt = null;
        iterations = 0;
        if (message.Length > MaxServerMessageLength)
        {
            error = "SCRAM server-first-message too long";
            return false;
        }

        // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
        // PostgreSQL sends exactly r=,s=,i=; a mandatory extension (m=) or anything after i= is refused, as libpq does.
        ReadOnlySpan<byte> rest = message;
        if (!TryTakeAttribute(ref rest, (byte)'r', out nonce) || !TryTakeAttribute(ref rest, (byte)'s', out ReadOnlySpan<byte> saltText)
            || !TryTakeAttribute(ref rest, (byte)'i', out ReadOnlySpan<byte> iterationText) || !rest.IsEmpty)
        {
            error = "malformed SCRAM server-first-message (expected r=,s=,i=)";
            return false;
        }

        if (!IsPrintableNonce(nonce))
        {
            error = "malformed SCRAM server-first-message (nonce is not printable)";
            return false;
        }

        if (nonce.Length <= ClientNonce.Length || !nonce.StartsWith(ClientNonce))
        {
            error = "SCRAM nonce mismatch: the server nonce does not extend the client nonce";
            return false;
        }

        if (saltText.IsEmpty || saltText.Length > Base64.GetMaxEncodedToUtf8Length(MaxSaltLength) || !IsStrictBase64(saltText))
        {
            error = "malformed SCRAM server-first-message (salt is not base64)";
            return false;
        }

        salt = new byte[Base64.GetMaxDecodedFromUtf8Length(saltText.Length)];
        if (Base64.DecodeFromUtf8(saltText, salt, out _, out int saltLength) != System.Buffers.OperationStatus.Done || saltLength == 0)
        {
            error = "malformed SCRAM server-first-message (salt is not base64)";
            return false;
        }

        salt = salt[..saltLength];
        if (!TryParseIterations(iterationText, out iterations))
        {
            error = "malformed SCRAM server-first-message (iteration count is not a number)";
            return false;
        }

        if (iterations < MinIterations)
        {
            error = $"SCRAM iteration count {iterations} is below the minimum {MinIterations}";
            return false;
        }

        if (iterations > MaxIterations)
        {
            error = $"SCRAM iteration count {iterations} is above the maximum {MaxIterations}";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static bool TryTakeAttribute(scoped ref ReadOnlySpan<byte> rest, byte name, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (rest.Length < 2 || rest[0] != name || rest[1] != (byte)'=')
        {
            return false;
        }

        int comma = rest.IndexOf((byte)',');
        if (comma < 0)
        {
            value = rest[2..];
            rest = default;
            return true;
        }

        if (comma + 1 == rest.Length)
        {
            return false; // a trailing comma announces an attribute that is not there
        }

        value = rest[2..comma];
        rest = rest[(comma + 1)..];
        return true;
    }

    private static bool TryParseIterations(ReadOnlySpan<byte> text, out int iterations)
    {
        iterations = 0;
        if (text.IsEmpty || text.Length > 10)
        {
            return false;
        }

        long value = 0;
        foreach (byte b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        if (value > int.MaxValue)
        {
            iterations = int.MaxValue;
            return true; // a number, refused by the range check
        }

        iterations = (int)value;
        return true;
    }

    private static bool TryDecodeBase64Exact(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        if (text.Length != Base64.GetMaxEncodedToUtf8Length(destination.Length) || !IsStrictBase64(text))
        {
            return false;
        }

        return Base64.DecodeFromUtf8(text, destination, out _, out int written) == System.Buffers.OperationStatus.Done
            && written == destination.Length;
    }

    // The standard alphabet, padded, no whitespace (System.Buffers.Text.Base64 would skip whitespace).
    private static bool IsStrictBase64(ReadOnlySpan<byte> text)
    {
        if (text.Length % 4 != 0)
        {
            return false;
        }

        int padding = text.EndsWith("=="u8) ? 2 : text.EndsWith("="u8) ? 1 : 0;
        foreach (byte b in text[..^padding])
        {
            if (!(b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'+' or (byte)'/'))
            {
                return false;
            }
        }

        return true;
    }

    // printable = %x21-2B / %x2D-7E (RFC 5802: printable ASCII except ',').
    private static bool IsPrintableNonce(ReadOnlySpan<byte> nonce)
    {
        foreach (byte b in nonce)
        {
            if (b is < 0x21 or > 0x7E or (byte)',')
            {
                return false;
            }
        }

        return true;
    }

    private static string EscapeForError(ReadOnlySpan<byte> value)
    {
        var builder = new StringBuilder(Math.Min(value.Length, MaxErrorEcho) + 3);
        foreach (byte b in value[..Math.Min(value.Length, MaxErrorEcho)])
        {
            builder.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }

        if (value.Length > MaxErrorEcho)
        {
            builder.Append("...");
        }

        return builder.ToString();
    }

    private static void Append(ref Span<byte> cursor, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(cursor);
        cursor = cursor[bytes.Length..];
    }

    private void MoveFrom(ExchangeState expected, ExchangeState next)
    {
        if (_state != expected)
        {
            ThrowOutOfOrder(expected, _state);
        }

        _state = next;
    }

    private void ClearPassword()
    {
        if (_password is not null)
        {
            CryptographicOperations.ZeroMemory(_password);
            _password = null;
        }
    }

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowOutOfOrder(ExchangeState expected, ExchangeState actual) =>
        throw new InvalidOperationException($"SCRAM exchange step out of order: expected state {expected}, was {actual}.");
}
