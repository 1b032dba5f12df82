namespace Appliance.Configuration;

internal sealed class ConfigSequenceNode(ConfigPosition position, List<ConfigNode> items) : ConfigNode(position)
{
    public List<ConfigNode> Items { get; } = items;

    public override string Description => "a list";
}
