using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Appliance.Protocols.Postgres.Auth;

/// <summary>
/// SASLprep (RFC 4013) of a SCRAM password, following PostgreSQL's rule: when the password
/// cannot be prepared, the raw UTF-8 bytes are used instead (the server does the same when
/// it stores the verifier, so both sides agree).
/// </summary>
/// <remarks>
/// What this implements, and where it may differ from PostgreSQL (src/common/saslprep.c):
/// <list type="bullet">
/// <item>ASCII passwords (the common case, generated secrets): used as they are — exactly as PostgreSQL.</item>
/// <item>Mapping: non-ASCII spaces (RFC 3454 C.1.2) become U+0020, "commonly mapped to nothing" (B.1) are
/// removed; C.1.2 wins for U+200B, as in PostgreSQL. An empty result falls back to the raw bytes.</item>
/// <item>Prohibited output (C.1.2, C.2.1, C.2.2, C.3–C.9) and the bidi rule are checked on the mapped string
/// (before normalization), as PostgreSQL does; any violation falls back to the raw bytes.</item>
/// <item>Unassigned code points: PostgreSQL uses the Unicode 3.2 table (A.1); we use the runtime's Unicode data,
/// which knows more characters. Passwords with characters added after Unicode 3.2 (emoji, for instance) may be
/// prepared here where PostgreSQL uses the raw bytes; the two only differ if mapping or normalization changes
/// something else in the same password.</item>
/// <item>Bidi: RandALCat is RFC 3454 D.1; "LCat" (D.2) is approximated by letter and spacing-mark categories
/// outside right-to-left scripts.</item>
/// <item>NFKC uses <see cref="string.Normalize(NormalizationForm)"/>. With invariant globalization the runtime cannot
/// normalize non-ASCII text; then the mapped string is used unnormalized, which is right for passwords that are
/// already in NFKC (precomposed letters as keyboards type them) and wrong for, e.g., ligatures or full-width forms.</item>
/// </list>
/// </remarks>
internal static class SaslPrep
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
            if (InRanges(code, ProhibitedOutput) || IsUnassigned(code))
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
            if (IsLeftToRightApproximation(code))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsUnassigned(int code) =>
        CharUnicodeInfo.GetUnicodeCategory(code) == UnicodeCategory.OtherNotAssigned;

    private static bool IsLeftToRightApproximation(int code)
    {
        if (InRanges(code, RightToLeftBlocks))
        {
            return false;
        }

        return CharUnicodeInfo.GetUnicodeCategory(code) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.SpacingCombiningMark
                or UnicodeCategory.LetterNumber => true,
            _ => false,
        };
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

    private static bool InRanges(int code, ReadOnlySpan<int> ranges)
    {
        for (int i = 0; i < ranges.Length; i += 2)
        {
            if (code < ranges[i])
            {
                return false;
            }

            if (code <= ranges[i + 1])
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

    // Tables are sorted, inclusive [first, last] pairs (RFC 3454 appendices).

    // C.1.2 Non-ASCII space characters.
    private static ReadOnlySpan<int> NonAsciiSpace =>
    [
        0x00A0, 0x00A0, 0x1680, 0x1680, 0x2000, 0x200B, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000,
    ];

    // B.1 Commonly mapped to nothing.
    private static ReadOnlySpan<int> MappedToNothing =>
    [
        0x00AD, 0x00AD, 0x034F, 0x034F, 0x1806, 0x1806, 0x180B, 0x180D, 0x200B, 0x200D, 0x2060, 0x2060,
        0xFE00, 0xFE0F, 0xFEFF, 0xFEFF,
    ];

    // Union of C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9 (the SASLprep "prohibited output").
    private static ReadOnlySpan<int> ProhibitedOutput =>
    [
        0x0000, 0x001F, // C.2.1
        0x007F, 0x00A0, // C.2.1 DEL, C.2.2 C1 controls, C.1.2 NBSP
        0x0340, 0x0341, // C.8
        0x06DD, 0x06DD, // C.2.2
        0x070F, 0x070F, // C.2.2
        0x1680, 0x1680, // C.1.2
        0x180E, 0x180E, // C.2.2
        0x2000, 0x200F, // C.1.2 spaces, C.2.2 ZWNJ/ZWJ, C.8 LRM/RLM
        0x2028, 0x202F, // C.2.2 separators, C.8 embeddings, C.1.2 NNBSP
        0x205F, 0x2063, // C.1.2, C.2.2
        0x206A, 0x206F, // C.2.2, C.8
        0x2FF0, 0x2FFB, // C.7
        0x3000, 0x3000, // C.1.2
        0xD800, 0xF8FF, // C.5 surrogates, C.3 private use
        0xFDD0, 0xFDEF, // C.4
        0xFEFF, 0xFEFF, // C.2.2
        0xFFF9, 0xFFFF, // C.2.2, C.6, C.4
        0x1D173, 0x1D17A, // C.2.2
        0x1FFFE, 0x1FFFF, 0x2FFFE, 0x2FFFF, 0x3FFFE, 0x3FFFF, 0x4FFFE, 0x4FFFF, 0x5FFFE, 0x5FFFF, // C.4
        0x6FFFE, 0x6FFFF, 0x7FFFE, 0x7FFFF, 0x8FFFE, 0x8FFFF, 0x9FFFE, 0x9FFFF, 0xAFFFE, 0xAFFFF, // C.4
        0xBFFFE, 0xBFFFF, 0xCFFFE, 0xCFFFF, 0xDFFFE, 0xDFFFF, // C.4
        0xE0001, 0xE0001, // C.9
        0xE0020, 0xE007F, // C.9
        0xEFFFE, 0xEFFFF, // C.4
        0xF0000, 0x10FFFF, // C.3 planes 15-16 private use, C.4
    ];

    // D.1 Characters with bidirectional property R or AL.
    private static ReadOnlySpan<int> RandALCat =>
    [
        0x05BE, 0x05BE, 0x05C0, 0x05C0, 0x05C3, 0x05C3, 0x05D0, 0x05EA, 0x05F0, 0x05F4, 0x061B, 0x061B,
        0x061F, 0x061F, 0x0621, 0x063A, 0x0640, 0x064A, 0x066D, 0x066F, 0x0671, 0x06D5, 0x06DD, 0x06DD,
        0x06E5, 0x06E6, 0x06FA, 0x06FE, 0x0700, 0x070D, 0x0710, 0x0710, 0x0712, 0x072C, 0x0780, 0x07A5,
        0x07B1, 0x07B1, 0x200F, 0x200F, 0xFB1D, 0xFB1D, 0xFB1F, 0xFB28, 0xFB2A, 0xFB36, 0xFB38, 0xFB3C,
        0xFB3E, 0xFB3E, 0xFB40, 0xFB41, 0xFB43, 0xFB44, 0xFB46, 0xFBB1, 0xFBD3, 0xFD3D, 0xFD50, 0xFD8F,
        0xFD92, 0xFDC7, 0xFDF0, 0xFDFC, 0xFE70, 0xFE74, 0xFE76, 0xFEFC,
    ];

    // Blocks of right-to-left scripts, excluded from the left-to-right approximation.
    private static ReadOnlySpan<int> RightToLeftBlocks =>
    [
        0x0590, 0x08FF, 0xFB1D, 0xFDFF, 0xFE70, 0xFEFF, 0x10800, 0x10FFF, 0x1E800, 0x1EFFF,
    ];
}
