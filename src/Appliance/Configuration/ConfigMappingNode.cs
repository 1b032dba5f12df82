namespace Appliance.Configuration;

/// <summary>A mapping in document order; duplicate keys are kept so they can be reported.</summary>
internal sealed class ConfigMappingNode(ConfigPosition position, List<KeyValuePair<ConfigScalarNode, ConfigNode>> entries)
    : ConfigNode(position)
{
    public List<KeyValuePair<ConfigScalarNode, ConfigNode>> Entries { get; } = entries;

    public override string Description => "a mapping";
}
