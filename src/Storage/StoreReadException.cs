namespace Appliance.Storage;

/// <summary>A block the reader needed is damaged; <see cref="StoreVerifier"/> says more.</summary>
public sealed class StoreReadException : Exception
{
    public StoreReadException(string message, string segment, long offset) : base($"{segment} at offset {offset}: {message}")
    {
        Segment = segment;
        Offset = offset;
    }

    public string Segment { get; }

    public long Offset { get; }
}
