namespace Appliance.Storage;

/// <summary>
/// The outcome of <see cref="StoreVerifier.Verify"/>. When <see cref="Intact"/> is false, <see cref="Segment"/>,
/// <see cref="Offset"/> and <see cref="Problem"/> name the first block that was altered, removed or reordered.
/// </summary>
public sealed record VerifyReport
{
    public bool Intact => Problem is null;

    /// <summary>What is wrong with the first bad block; null when the chain is intact.</summary>
    public string? Problem { get; init; }

    /// <summary>The segment file holding the first bad block.</summary>
    public string? Segment { get; init; }

    /// <summary>Byte offset of the first bad block in <see cref="Segment"/>.</summary>
    public long Offset { get; init; } = -1;

    /// <summary>The bad block's number when it could be read, else the number expected there.</summary>
    public long? BlockNumber { get; init; }

    public int Segments { get; init; }

    /// <summary>Blocks checked (up to the first bad one).</summary>
    public long Blocks { get; init; }

    public long Records { get; init; }

    /// <summary>Number of the first block present (greater than 0 once retention has deleted segments).</summary>
    public long FirstBlockNumber { get; init; }

    /// <summary>Number of the newest block checked (-1 for an empty store).</summary>
    public long HeadBlockNumber { get; init; } = -1;

    /// <summary>Hex SHA-256 of the newest block: write it down; a later verify proves nothing before it changed.</summary>
    public string? HeadHash { get; init; }

    /// <summary>Segments deleted by retention according to the chain's own records.</summary>
    public int DeletedSegments { get; init; }

    /// <summary>Index files that do not match their segment (derived data: delete them and they are rebuilt).</summary>
    public IReadOnlyList<string> IndexProblems { get; init; } = [];

    /// <summary>Things worth knowing that are not tampering, such as an unfinished write at the very end.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
