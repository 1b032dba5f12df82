namespace Appliance.Configuration;

/// <summary>
/// One YAML mapping being bound: rejects unknown and duplicate keys up front, then hands out
/// typed values, reporting wrong types through the binder with the key path.
/// </summary>
internal sealed class ConfigSection
{
    private readonly ConfigBinder _binder;
    private readonly Dictionary<string, ConfigNode> _values = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, ConfigNode>> _entries = [];
    private readonly List<string> _emptyKeys = [];

    /// <param name="allowedKeys">The keys this mapping may have; null for free-form keys (claims).</param>
    public ConfigSection(ConfigBinder binder, ConfigMappingNode node, string path, string[]? allowedKeys)
    {
        _binder = binder;
        Path = path;
        Position = node.Position;
        var firstLines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in node.Entries)
        {
            var key = keyNode.Value;
            var keyPath = KeyPath(key);
            if (allowedKeys is not null && Array.IndexOf(allowedKeys, key) < 0)
            {
                binder.Error(keyNode.Position, keyPath,
                    $"unknown key {ConfigText.Quote(key)}; expected one of: {string.Join(", ", allowedKeys)}");
                continue;
            }

            if (!firstLines.TryAdd(key, keyNode.Position.Line))
            {
                binder.Error(keyNode.Position, keyPath, $"duplicate key {ConfigText.Quote(key)} (first at line {firstLines[key]})");
                continue;
            }

            if (value is ConfigScalarNode { IsNull: true })
            {
                // `key:` with nothing after it counts as absent; remember where, for "is required".
                binder.Record(keyPath, keyNode.Position);
                _emptyKeys.Add(key);
                continue;
            }

            binder.Record(keyPath, value.Position);
            _values[key] = value;
            _entries.Add(new(key, value));
        }
    }

    public string Path { get; }

    public ConfigPosition Position { get; }

    /// <summary>The keys that have a value, in document order (for free-form mappings).</summary>
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Entries => _entries;

    /// <summary>Keys written with no value (<c>key:</c>, <c>key: ~</c>), which otherwise count as absent.</summary>
    public IReadOnlyList<string> EmptyKeys => _emptyKeys;

    public int Line => Position.Line;

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>Reports a required key that is absent or empty.</summary>
    public void Missing(string key) => _binder.Error(KeyPath(key), "is required");

    public string? String(string key, bool required = false)
    {
        if (!_values.TryGetValue(key, out var node))
        {
            if (required)
            {
                Missing(key);
            }

            return null;
        }

        var value = _binder.ReadString(node, KeyPath(key));
        if (value is { Length: 0 } && required)
        {
            _binder.Error(KeyPath(key), "must not be empty");
        }

        return value;
    }

    public int? Int(string key) => _values.TryGetValue(key, out var node) ? _binder.ReadInt(node, KeyPath(key)) : null;

    public bool? Bool(string key) => _values.TryGetValue(key, out var node) ? _binder.ReadBool(node, KeyPath(key)) : null;

    public TimeSpan? Duration(string key) =>
        _values.TryGetValue(key, out var node) ? _binder.ReadDuration(node, KeyPath(key)) : null;

    /// <summary>A list of strings; null when absent or of the wrong type. Required lists must not be empty.</summary>
    public List<string>? StringList(string key, bool required = false)
    {
        if (!_values.TryGetValue(key, out var node))
        {
            if (required)
            {
                Missing(key);
            }

            return null;
        }

        var list = _binder.ReadStringList(node, KeyPath(key));
        if (list is { Count: 0 } && required)
        {
            _binder.Error(KeyPath(key), "must not be empty");
        }

        return list;
    }

    public ConfigSection? Section(string key, string[]? allowedKeys, bool required = false)
    {
        if (!_values.TryGetValue(key, out var node))
        {
            if (required)
            {
                Missing(key);
            }

            return null;
        }

        return _binder.ReadSection(node, KeyPath(key), allowedKeys);
    }

    /// <summary>The items of a list-valued key with their paths (<c>key[i]</c>); empty when absent or not a list.</summary>
    public IReadOnlyList<(ConfigNode Node, string Path)> Items(string key) =>
        _values.TryGetValue(key, out var node) ? _binder.ReadItems(node, KeyPath(key)) : [];
}
