namespace Appliance.Configuration;

/// <summary>A YAML node as the loader sees it: where it starts, and what it is called in messages.</summary>
/// <remarks>
/// Our own small tree rather than YamlDotNet's representation model, because that model
/// throws on the first duplicate key and we want to report all of them.
/// </remarks>
internal abstract class ConfigNode(ConfigPosition position)
{
    public ConfigPosition Position { get; } = position;

    /// <summary>"a string", "a list", "a mapping": what was found, for "expected X, got Y".</summary>
    public abstract string Description { get; }
}
