using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Appliance.Configuration;

/// <summary>Turns YAML text into a <see cref="ConfigNode"/> tree, reporting syntax errors with positions.</summary>
internal sealed class ConfigTreeReader
{
    // Deeper than any valid configuration; stops `[[[[…` from exhausting the stack.
    private const int MaxDepth = 64;

    private readonly Parser _parser;
    private readonly Action<ConfigPosition, string> _error;
    private readonly Dictionary<string, ConfigNode> _anchors = new(StringComparer.Ordinal);
    private ConfigPosition _lastPosition = new(1, 1);

    private ConfigTreeReader(string yaml, Action<ConfigPosition, string> error)
    {
        _parser = new Parser(new StringReader(yaml));
        _error = error;
    }

    /// <summary>The root node of the single document, or null when the text is not usable YAML (errors reported).</summary>
    public static ConfigNode? Read(string yaml, Action<ConfigPosition, string> error)
    {
        var reader = new ConfigTreeReader(yaml, error);
        try
        {
            return reader.ReadStream();
        }
        catch (YamlException e)
        {
            error(ToPosition(e.Start), "invalid YAML: " + Describe(e));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // YamlDotNet fails on some malformed input (an unclosed flow `[`) with these instead of a
            // YamlException; its message says nothing useful, the last good position does.
            error(reader._lastPosition, "invalid YAML after this point (an unclosed [, { or quote?)");
            return null;
        }
    }

    private ConfigNode? ReadStream()
    {
        Next(); // StreamStart
        Next();
        if (_parser.Current is StreamEnd)
        {
            _error(new ConfigPosition(1, 1), "the file is empty; expected a mapping of settings");
            return null;
        }

        Next(); // DocumentStart
        var root = ReadNode(0);
        if (_parser.Current is not DocumentEnd)
        {
            _error(_lastPosition, "invalid YAML: expected the end of the document");
            return null;
        }

        Next();
        if (_parser.Current is DocumentStart second)
        {
            _error(ToPosition(second.Start), "expected a single YAML document; found a second one");
            return null;
        }

        return root;
    }

    private ConfigNode? ReadNode(int depth)
    {
        var current = _parser.Current ?? throw new YamlException("unexpected end of input");
        var position = ToPosition(current.Start);
        if (depth > MaxDepth)
        {
            throw new YamlException(current.Start, current.End, $"nested deeper than {MaxDepth} levels");
        }

        ConfigNode? node;
        switch (current)
        {
            case Scalar scalar:
                Next();
                node = new ConfigScalarNode(position, scalar.Value, scalar.Style is ScalarStyle.Plain or ScalarStyle.Any);
                break;
            case AnchorAlias alias:
                Next();
                if (!_anchors.TryGetValue(alias.Value.Value, out node))
                {
                    _error(position, $"unknown alias '*{alias.Value.Value}'");
                }

                return node;
            case SequenceStart:
                Next();
                var items = new List<ConfigNode>();
                while (_parser.Current is not SequenceEnd)
                {
                    var item = ReadNode(depth + 1);
                    if (item is not null)
                    {
                        items.Add(item);
                    }
                }

                Next();
                node = new ConfigSequenceNode(position, items);
                break;
            case MappingStart:
                Next();
                var entries = new List<KeyValuePair<ConfigScalarNode, ConfigNode>>();
                while (_parser.Current is not MappingEnd)
                {
                    var key = ReadNode(depth + 1);
                    var value = ReadNode(depth + 1);
                    if (key is ConfigScalarNode scalarKey)
                    {
                        entries.Add(new(scalarKey, value ?? new ConfigScalarNode(scalarKey.Position, "", isPlain: true)));
                    }
                    else if (key is not null)
                    {
                        _error(key.Position, $"keys must be plain names, got {key.Description}");
                    }
                }

                Next();
                node = new ConfigMappingNode(position, entries);
                break;
            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }

        if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
        {
            _anchors[anchored.Anchor.Value] = node;
        }

        return node;
    }

    private void Next()
    {
        if (!_parser.MoveNext())
        {
            throw new YamlException(_parser.Current?.End ?? Mark.Empty, _parser.Current?.End ?? Mark.Empty, "unexpected end of input");
        }

        _lastPosition = ToPosition(_parser.Current!.Start);
    }

    private static ConfigPosition ToPosition(Mark mark) =>
        new((int)Math.Min(mark.Line, int.MaxValue), (int)Math.Min(mark.Column, int.MaxValue));

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (…): "; the position is ours to print.
        var message = e.Message;
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        return marker >= 0 && message.StartsWith('(') ? message[(marker + 3)..] : message;
    }
}
