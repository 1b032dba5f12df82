namespace Appliance.Masking;

public enum MaskKind : byte
{
    /// <summary>The value is replaced by <c>****</c>.</summary>
    Redact,
    /// <summary>The last <see cref="MaskStrategy.Keep"/> characters stay; the others become <c>*</c>.</summary>
    Partial,
    /// <summary>A keyed hash (HMAC-SHA256, 16 hex digits): equal values stay equal within the scope, so joins and grouping work.</summary>
    Hash,
}

/// <summary>Where equal values hash equal.</summary>
public enum HashScope : byte { Target, Global, Session }

/// <summary>How one column is masked.</summary>
/// <param name="RefuseUnsupported">For a type that cannot carry the mask (integer, date, ...): refuse the result instead of sending NULL.</param>
public readonly record struct MaskStrategy(MaskKind Kind, int Keep = 0, HashScope Scope = HashScope.Target, bool RefuseUnsupported = false)
{
    public static MaskStrategy Redact => new(MaskKind.Redact);

    /// <summary>
    /// For a value computed from masked columns (an expression, a whole row): the strongest of the two.
    /// Partial keeps characters of the original value, which an expression (reverse(email)) could move, so it
    /// becomes redact; hash stays hash only when both are hash in the same scope.
    /// </summary>
    public MaskStrategy Strongest(MaskStrategy other)
    {
        bool refuse = RefuseUnsupported || other.RefuseUnsupported;
        return Kind == MaskKind.Hash && other.Kind == MaskKind.Hash && Scope == other.Scope
            ? this with { RefuseUnsupported = refuse }
            : new MaskStrategy(MaskKind.Redact, RefuseUnsupported: refuse);
    }

    /// <summary>What an expression over a column masked this way gets: partial becomes redact (see <see cref="Strongest"/>).</summary>
    public MaskStrategy ForDerived() => Kind == MaskKind.Hash ? this : new MaskStrategy(MaskKind.Redact, RefuseUnsupported: RefuseUnsupported);

    public override string ToString() => Kind switch
    {
        MaskKind.Partial => $"partial (keep {Keep})",
        MaskKind.Hash => "hash",
        _ => "redact",
    };
}
