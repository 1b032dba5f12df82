namespace Appliance.Storage.Tests;

/// <summary>Where each block sits in each segment file, read independently of the store's own index.</summary>
internal static class StoreLayout
{
    public static List<(string Path, long Offset, int Length, long BlockNumber, int Records)> Blocks(string directory)
    {
        var blocks = new List<(string, long, int, long, int)>();
        foreach (var path in Directory.GetFiles(directory, "*.seg").Order(StringComparer.Ordinal))
        {
            using var scanner = SegmentScanner.Open(path, StoreReader.MaxRawLength);
            while (scanner.ReadNext() == FrameStatus.Block)
            {
                blocks.Add((path, scanner.FrameOffset, scanner.Block.FrameLength, scanner.Block.BlockNumber, scanner.Block.RecordCount));
            }
        }
        return blocks;
    }

    public static void FlipBit(string path, long offset, int bit)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ (1 << bit)));
    }

    /// <summary>Removes <paramref name="length"/> bytes at <paramref name="offset"/>, closing the gap.</summary>
    public static void Cut(string path, long offset, int length)
    {
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, [.. bytes.AsSpan(0, (int)offset), .. bytes.AsSpan((int)offset + length)]);
    }
}
