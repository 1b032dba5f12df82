using System.Text.Json;

namespace Appliance.Bench.Budgets;

/// <summary>
/// <c>bench/allocation-budgets.json</c>: the most bytes each benchmark may allocate per operation, keyed
/// <c>Class.Method</c>. Hot-path benchmarks have 0.
/// </summary>
internal sealed class AllocationBudgets
{
    public const string FileName = "allocation-budgets.json";

    private AllocationBudgets(string path, Dictionary<string, long> bytes)
    {
        Path = path;
        Bytes = bytes;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, long> Bytes { get; }

    /// <summary>Reads the file; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static AllocationBudgets Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (!document.RootElement.TryGetProperty("budgets", out var budgets) || budgets.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: expected an object \"budgets\": {{ \"Class.Method\": bytes, … }}");
        }
        var bytes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in budgets.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt64(out long value) || value < 0)
            {
                throw new InvalidDataException($"{path}: budget of {entry.Name} must be a whole number of bytes >= 0");
            }
            bytes[entry.Name] = value;
        }
        return new AllocationBudgets(path, bytes);
    }

    /// <summary>The budgets file next to the bench project: searched upwards from the working directory and the binary.</summary>
    public static string? Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, FileName), System.IO.Path.Combine(dir.FullName, "bench", FileName) })
                {
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
        }
        return null;
    }
}
