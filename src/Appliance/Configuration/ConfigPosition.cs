namespace Appliance.Configuration;

/// <summary>A 1-based line and column in a configuration file; <see cref="None"/> when unknown.</summary>
public readonly record struct ConfigPosition(int Line, int Column)
{
    /// <summary>No position (a value built in code, or an error about the whole file).</summary>
    public static ConfigPosition None => default;

    public bool IsKnown => Line > 0;
}
