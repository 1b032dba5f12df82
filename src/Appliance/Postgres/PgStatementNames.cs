namespace Appliance.Postgres;

/// <summary>
/// Names of the statements prepared through the gateway on one session (protocol-level Parse), looked up
/// by the bytes of a Bind without making a string. The unnamed statement is the empty name.
/// </summary>
internal sealed class PgStatementNames
{
    private readonly HashSet<byte[]> _names = new(ByteArrayComparer.Instance);
    private readonly HashSet<byte[]>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private bool _unnamed;

    public PgStatementNames() => _lookup = _names.GetAlternateLookup<ReadOnlySpan<byte>>();

    public int Count => _names.Count + (_unnamed ? 1 : 0);

    public void Add(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            _unnamed = true;
        }
        else if (!_lookup.Contains(name))
        {
            _names.Add(name.ToArray());
        }
    }

    public bool Contains(ReadOnlySpan<byte> name) => name.IsEmpty ? _unnamed : _lookup.Contains(name);

    public void Remove(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            _unnamed = false;
        }
        else
        {
            _lookup.Remove(name);
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
