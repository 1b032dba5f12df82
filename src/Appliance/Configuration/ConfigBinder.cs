using System.Globalization;

namespace Appliance.Configuration;

/// <summary>
/// Binds a <see cref="ConfigNode"/> tree to <see cref="ApplianceConfig"/>, collecting every error
/// with its position and key path. One instance per load.
/// </summary>
internal sealed partial class ConfigBinder
{
    private readonly string _sourceName;
    private readonly string _baseDirectory;
    private readonly List<ConfigError> _errors = [];
    private readonly Dictionary<string, ConfigPosition> _positions = new(StringComparer.Ordinal);

    public ConfigBinder(string sourceName, string baseDirectory)
    {
        _sourceName = sourceName;
        _baseDirectory = baseDirectory;
    }

    /// <summary>Errors so far, in file order (stable for errors at the same position).</summary>
    public IReadOnlyList<ConfigError> Errors =>
        [.. _errors.OrderBy(e => e.Line).ThenBy(e => e.Column)];

    public void Error(ConfigPosition at, string key, string message) =>
        _errors.Add(new ConfigError(_sourceName, at.Line, at.Column, key, message));

    /// <summary>Reports an error at the recorded position of <paramref name="path"/> (or its nearest recorded parent).</summary>
    public void Error(string path, string message) => Error(At(path), path, message);

    public void Record(string path, ConfigPosition position) => _positions[path] = position;

    /// <summary>Where <paramref name="path"/> is in the file; for an absent key, where its parent is.</summary>
    public ConfigPosition At(string path)
    {
        while (true)
        {
            if (_positions.TryGetValue(path, out var position))
            {
                return position;
            }

            var cut = path.LastIndexOfAny(['.', '[']);
            if (cut <= 0)
            {
                return _positions.GetValueOrDefault("", new ConfigPosition(1, 1));
            }

            path = path[..cut];
        }
    }

    public string? ReadString(ConfigNode node, string path)
    {
        if (node is ConfigScalarNode scalar)
        {
            return scalar.Value;
        }

        Error(path, $"expected a string, got {node.Description}");
        return null;
    }

    public int? ReadInt(ConfigNode node, string path)
    {
        if (node is not ConfigScalarNode scalar)
        {
            Error(path, $"expected an integer, got {node.Description}");
            return null;
        }

        if (int.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        var tooLarge = scalar.Value.Length > 0 && !scalar.Value.AsSpan().TrimStart('-').ContainsAnyExceptInRange('0', '9');
        Error(path, tooLarge
            ? $"{ConfigText.Quote(scalar.Value)} is too large for an integer"
            : $"expected an integer, got {ConfigText.Quote(scalar.Value)}");
        return null;
    }

    public bool? ReadBool(ConfigNode node, string path)
    {
        if (node is ConfigScalarNode scalar)
        {
            switch (scalar.Value)
            {
                case "true" or "True" or "TRUE":
                    return true;
                case "false" or "False" or "FALSE":
                    return false;
            }
        }

        Error(path, $"expected true or false, got {Found(node)}");
        return null;
    }

    public TimeSpan? ReadDuration(ConfigNode node, string path)
    {
        if (node is ConfigScalarNode scalar && DurationText.TryParse(scalar.Value, out var value))
        {
            return value;
        }

        Error(path, $"expected a duration such as 30s, 15m, 1h30m or 500ms, got {Found(node)}");
        return null;
    }

    public List<string>? ReadStringList(ConfigNode node, string path)
    {
        if (node is not ConfigSequenceNode sequence)
        {
            Error(path, $"expected a list, got {Found(node)}");
            return null;
        }

        var list = new List<string>(sequence.Items.Count);
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            var item = sequence.Items[i];
            Record(itemPath, item.Position);
            if (item is ConfigScalarNode { IsNull: false } scalar)
            {
                list.Add(scalar.Value);
            }
            else
            {
                Error(itemPath, $"expected a string, got {item.Description}");
            }
        }

        return list;
    }

    public ConfigSection? ReadSection(ConfigNode node, string path, string[]? allowedKeys)
    {
        Record(path, node.Position);
        if (node is ConfigMappingNode mapping)
        {
            return new ConfigSection(this, mapping, path, allowedKeys);
        }

        Error(path, $"expected a mapping, got {Found(node)}");
        return null;
    }

    public IReadOnlyList<(ConfigNode Node, string Path)> ReadItems(ConfigNode node, string path)
    {
        if (node is not ConfigSequenceNode sequence)
        {
            Error(path, $"expected a list, got {Found(node)}");
            return [];
        }

        var items = new List<(ConfigNode, string)>(sequence.Items.Count);
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            Record(itemPath, sequence.Items[i].Position);
            items.Add((sequence.Items[i], itemPath));
        }

        return items;
    }

    /// <summary>A referenced file's path made absolute against the configuration file's directory.</summary>
    public string ResolvePath(string path) => System.IO.Path.GetFullPath(path, _baseDirectory);

    // "a list", or the scalar itself quoted: "got 'abc'" says more than "got a string".
    private static string Found(ConfigNode node) =>
        node is ConfigScalarNode { IsNull: false } scalar ? ConfigText.Quote(scalar.Value) : node.Description;
}
