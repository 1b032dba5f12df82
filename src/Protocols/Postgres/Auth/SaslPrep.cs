using System.Security.Cryptography;
using System.Text;

namespace Appliance.Protocols.Postgres.Auth;

/// <summary>
/// SASLprep (RFC 4013) of a SCRAM password, following PostgreSQL's rule: when the password
/// cannot be prepared, the raw UTF-8 bytes are used instead (the server does the same when
/// it stores the verifier, so both sides agree).
/// </summary>
/// <remarks>
/// The steps of PostgreSQL's src/common/saslprep.c, with the RFC 3454 tables of Unicode 3.2 (SaslPrep.Tables.cs):
/// <list type="bullet">
/// <item>ASCII passwords (the common case, generated secrets) are used as they are.</item>
/// <item>Map: non-ASCII spaces (C.1.2) become U+0020, "commonly mapped to nothing" (B.1) are removed; C.1.2 wins for
/// U+200B. An empty result is refused.</item>
/// <item>Prohibited output (C.1.2–C.9), unassigned code points (A.1) and the bidi rule (D.1/D.2) are checked on the
/// mapped string, before normalization, as PostgreSQL does. Any refusal means: use the raw UTF-8 bytes.</item>
/// <item>Normalize with NFKC through <see cref="string.Normalize(NormalizationForm)"/>. Known gap: under invariant
/// globalization (this repository's setting) the runtime cannot normalize non-ASCII text, so the mapped string is
/// used unnormalized. That is right for passwords already in NFKC (precomposed letters as keyboards type them) and
/// wrong for compatibility characters (ligatures, full-width forms, superscripts), whose logins then fail.</item>
/// </list>
/// </remarks>
internal static partial class SaslPrep
{
    private static readonly bool s_canNormalize = ProbeNormalization();

    /// <summary>True when the runtime can apply NFKC to non-ASCII text (false under invariant globalization).</summary>
    internal static bool CanNormalize => s_canNormalize;

    /// <summary>Returns the bytes to feed PBKDF2: the SASLprep result, or the raw UTF-8 bytes when SASLprep refuses the password.</summary>
    /// <exception cref="ArgumentException">The password holds unpaired surrogates (it has no UTF-8 form).</exception>
    internal static byte[] Prepare(string password)
    {
        byte[] raw = EncodeStrict(password);
        if (Ascii.IsValid(raw))
        {
            return raw;
        }

        int[] mapped = Map(password, out int count);
        try
        {
            if (count == 0 || !PassesProhibitionAndBidi(mapped.AsSpan(0, count)))
            {
                return raw;
            }

            string prepared = ToString(mapped.AsSpan(0, count));
            if (s_canNormalize)
            {
                prepared = prepared.Normalize(NormalizationForm.FormKC);
            }

            CryptographicOperations.ZeroMemory(raw);
            return Encoding.UTF8.GetBytes(prepared);
        }
        finally
        {
            Array.Clear(mapped);
        }
    }

    private static byte[] EncodeStrict(string password)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetBytes(password);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException("The password is not valid Unicode (unpaired surrogate).", nameof(password));
        }
    }

    private static int[] Map(string password, out int count)
    {
        int[] output = new int[password.Length];
        count = 0;
        foreach (Rune rune in password.EnumerateRunes())
        {
            int code = rune.Value;
            if (InRanges(code, NonAsciiSpace))
            {
                output[count++] = 0x20;
            }
            else if (!InRanges(code, MappedToNothing))
            {
                output[count++] = code;
            }
        }

        return output;
    }

    private static bool PassesProhibitionAndBidi(ReadOnlySpan<int> chars)
    {
        bool hasRandAL = false;
        foreach (int code in chars)
        {
            if (InRanges(code, ProhibitedOutput) || InRanges(code, Unassigned))
            {
                return false;
            }

            hasRandAL |= InRanges(code, RandALCat);
        }

        if (!hasRandAL)
        {
            return true;
        }

        if (!InRanges(chars[0], RandALCat) || !InRanges(chars[^1], RandALCat))
        {
            return false;
        }

        foreach (int code in chars)
        {
            if (InRanges(code, LCat))
            {
                return false;
            }
        }

        return true;
    }

    private static string ToString(ReadOnlySpan<int> chars)
    {
        var builder = new StringBuilder(chars.Length);
        foreach (int code in chars)
        {
            builder.Append(new Rune(code).ToString());
        }

        return builder.ToString();
    }

    // Binary search over sorted, inclusive [first, last] pairs.
    private static bool InRanges(int code, ReadOnlySpan<int> ranges)
    {
        int low = 0;
        int high = (ranges.Length / 2) - 1;
        while (low <= high)
        {
            int mid = low + ((high - low) / 2);
            if (code < ranges[2 * mid])
            {
                high = mid - 1;
            }
            else if (code > ranges[(2 * mid) + 1])
            {
                low = mid + 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    private static bool ProbeNormalization()
    {
        try
        {
            return "\uFB01".Normalize(NormalizationForm.FormKC) == "fi";
        }
        catch (PlatformNotSupportedException)
        {
            return false;
        }
    }
}
