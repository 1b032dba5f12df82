using System.Buffers.Binary;
using System.Numerics;

namespace Appliance.Postgres;

/// <summary>
/// Statement texts a session's gate has allowed, so the same text is not classified again: drivers send one
/// text over and over with new parameters, and the extended protocol parses it every time. It holds only
/// texts whose decision depends on nothing but the text, the policy, standard_conforming_strings and the
/// session's search_path; a new policy or a change of the lexer setting empties it, and the gate empties it
/// when search_path changes. A text is kept the second time it is allowed (the first time only its hash is
/// noted), so texts that never repeat cost no copy. A few entries, replaced round robin. Keys are texts or, for
/// texts with numbers, their <see cref="Appliance.Protocols.Postgres.Sql.SqlShape"/>: no decision depends on
/// a number's digits, and a shape (it holds a NUL byte) never equals a text.
/// </summary>
internal sealed class PgDecisionCache
{
    public const int MaxTextLength = 2048;
    private const int Capacity = 8;
    private const int SeenCapacity = 16;

    private readonly int[] _hashes = new int[Capacity];
    private readonly byte[]?[] _texts = new byte[Capacity][];
    private readonly RememberedStatement?[] _remembered = new RememberedStatement?[Capacity];
    private readonly int[] _seen = new int[SeenCapacity];
    private int _next;
    private int _nextSeen;
    private object? _policy;
    private bool _standardConformingStrings;

    /// <summary>
    /// A quick hash, eight bytes a step: it only picks which entries to compare (entries are compared byte for
    /// byte), so it needs no seed or flooding resistance, and every statement pays for it.
    /// </summary>
    public static int Hash(ReadOnlySpan<byte> text)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong hash = (ulong)text.Length * Multiplier;
        while (text.Length >= sizeof(ulong))
        {
            hash = BitOperations.RotateLeft(hash ^ BinaryPrimitives.ReadUInt64LittleEndian(text), 29) * Multiplier;
            text = text[sizeof(ulong)..];
        }
        ulong last = 0;
        for (int i = 0; i < text.Length; i++)
        {
            last |= (ulong)text[i] << (8 * i);
        }
        hash = BitOperations.RotateLeft(hash ^ last, 29) * Multiplier;
        return (int)(hash ^ (hash >> 32));
    }

    /// <summary>Was <paramref name="text"/> allowed under this policy and lexer setting? Its entry, or -1.</summary>
    public int Find(ReadOnlySpan<byte> text, int hash, object? policy, bool standardConformingStrings)
    {
        UseFor(policy, standardConformingStrings);
        for (int i = 0; i < Capacity; i++)
        {
            if (_hashes[i] == hash && _texts[i] is { } cached && text.SequenceEqual(cached))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Notes an allowed text; <paramref name="policy"/> is the policy it was decided under. Returns the entry it
    /// now has (see <see cref="Remember"/>), or -1 when only its hash was noted.
    /// </summary>
    public int Allowed(ReadOnlySpan<byte> text, int hash, object? policy, bool standardConformingStrings)
    {
        if (text.Length > MaxTextLength)
        {
            return -1;
        }
        UseFor(policy, standardConformingStrings);
        if (Array.IndexOf(_seen, hash) < 0)
        {
            _seen[_nextSeen] = hash;
            _nextSeen = (_nextSeen + 1) % SeenCapacity;
            return -1;
        }
        int entry = _next;
        _hashes[entry] = hash;
        _texts[entry] = text.ToArray();
        _remembered[entry] = null;
        _next = (_next + 1) % Capacity;
        return entry;
    }

    /// <summary>What a recorded session needs to record the entry's text again without deciding it.</summary>
    public void Remember(int entry, RememberedStatement statement) => _remembered[entry] = statement;

    /// <summary>Null when the entry was kept without it (a session that records nothing).</summary>
    public RememberedStatement? RememberedAt(int entry) => _remembered[entry];

    public void Clear()
    {
        Array.Clear(_texts);
        Array.Clear(_remembered);
        Array.Clear(_hashes);
        Array.Clear(_seen);
        _next = _nextSeen = 0;
    }

    /// <summary>Empties the cache when the policy or the lexer setting is not the one its entries were decided under.</summary>
    private void UseFor(object? policy, bool standardConformingStrings)
    {
        if (ReferenceEquals(policy, _policy) && standardConformingStrings == _standardConformingStrings)
        {
            return;
        }
        Clear();
        _policy = policy;
        _standardConformingStrings = standardConformingStrings;
    }
}

/// <summary>
/// The statement record a remembered text got when it was decided: its class, the allowing rule (1-based),
/// the tables (ranges into <see cref="Names"/>), and where the statement sits in the text (whitespace and a
/// trailing semicolon around it are not recorded). A shape's texts differ only in numbers, so all of it holds
/// for every text of the shape.
/// </summary>
internal sealed record RememberedStatement(string Class, int Rule, byte[] Names, Range[] Tables, int Leading, int Trailing);
