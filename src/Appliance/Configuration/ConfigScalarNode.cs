namespace Appliance.Configuration;

internal sealed class ConfigScalarNode(ConfigPosition position, string value, bool isPlain) : ConfigNode(position)
{
    public string Value { get; } = value;

    /// <summary>True for an unquoted scalar (quoted <c>"5432"</c> is still accepted as a number).</summary>
    public bool IsPlain { get; } = isPlain;

    /// <summary>An empty value, <c>~</c> or <c>null</c>, unquoted: treated as if the key were absent.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Description => IsNull ? "nothing" : "a string";
}
