namespace Appliance.Tests.Systemd;

/// <summary>
/// A systemd unit file read the way systemd reads the parts the tests use: sections, repeated keys,
/// comments, and <c>Environment=</c> assignments (whitespace-separated, optionally quoted).
/// </summary>
internal sealed class UnitFile
{
    private readonly Dictionary<(string Section, string Key), List<string>> _values = [];

    private UnitFile(string path) => Path = path;

    public string Path { get; }

    public static UnitFile Load(string path)
    {
        var unit = new UnitFile(path);
        var section = "";
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[' && line[^1] == ']')
            {
                section = line[1..^1];
                continue;
            }
            var eq = line.IndexOf('=');
            Assert.True(eq > 0, $"{path}: not a key=value line: {raw}");
            var key = (section, line[..eq].Trim());
            if (!unit._values.TryGetValue(key, out var list))
            {
                unit._values[key] = list = [];
            }
            list.Add(line[(eq + 1)..].Trim());
        }
        return unit;
    }

    /// <summary>Every value given for the key, in file order.</summary>
    public IReadOnlyList<string> All(string section, string key) =>
        _values.TryGetValue((section, key), out var list) ? list : [];

    /// <summary>The value systemd uses for a single-valued key: the last one.</summary>
    public string? Get(string section, string key) => All(section, key) is { Count: > 0 } list ? list[^1] : null;

    /// <summary>The variables set by every <c>Environment=</c> line of [Service].</summary>
    public Dictionary<string, string> Environment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in All("Service", "Environment"))
        {
            foreach (var word in Words(line))
            {
                var eq = word.IndexOf('=');
                Assert.True(eq > 0, $"{Path}: Environment= word without '=': {word}");
                result[word[..eq]] = word[(eq + 1)..];
            }
        }
        return result;
    }

    /// <summary>The command line of <c>ExecStart=</c>, split into words (no prefixes such as '-' or '@' are used).</summary>
    public IReadOnlyList<string> ExecStart()
    {
        var value = Get("Service", "ExecStart");
        Assert.NotNull(value);
        Assert.DoesNotMatch("^[-@:+!]", value);
        return Words(value);
    }

    /// <summary>Whitespace-separated words; double or single quotes group words, as in systemd's syntax.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        char quote = '\0';
        var inWord = false;
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        Assert.True(quote == '\0', $"unbalanced quote in: {text}");
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
