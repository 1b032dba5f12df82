using System.Diagnostics.CodeAnalysis;

namespace Appliance.Configuration;

/// <summary>Either a validated configuration or every error found in it.</summary>
public sealed class ConfigLoadResult
{
    private ConfigLoadResult(ApplianceConfig? config, IReadOnlyList<ConfigError> errors)
    {
        Config = config;
        Errors = errors;
    }

    /// <summary>The configuration; null whenever there is at least one error.</summary>
    public ApplianceConfig? Config { get; }

    /// <summary>All errors, ordered by position in the file.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    [MemberNotNullWhen(true, nameof(Config))]
    public bool Succeeded => Config is not null;

    internal static ConfigLoadResult Success(ApplianceConfig config) => new(config, []);

    internal static ConfigLoadResult Failure(IReadOnlyList<ConfigError> errors) => new(null, errors);
}
