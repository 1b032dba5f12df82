using System.Globalization;

namespace Appliance.Storage;

/// <summary>Names of the files in a store directory: <c>0000000000000001.seg</c> and its index <c>0000000000000001.idx</c>.</summary>
internal static class SegmentFiles
{
    public const string SegmentExtension = ".seg";
    public const string IndexExtension = ".idx";
    public const string LockFileName = "writer.lock";

    public static string SegmentPath(string directory, long number) =>
        Path.Combine(directory, number.ToString("D16", CultureInfo.InvariantCulture) + SegmentExtension);

    public static string IndexPath(string directory, long number) =>
        Path.Combine(directory, number.ToString("D16", CultureInfo.InvariantCulture) + IndexExtension);

    /// <summary>Segment numbers present in <paramref name="directory"/>, ascending; files with other names are ignored.</summary>
    public static List<long> List(string directory)
    {
        var numbers = new List<long>();
        if (!Directory.Exists(directory))
        {
            return numbers;
        }
        foreach (var path in Directory.EnumerateFiles(directory, "*" + SegmentExtension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 16 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
            {
                numbers.Add(number);
            }
        }
        numbers.Sort();
        return numbers;
    }
}
