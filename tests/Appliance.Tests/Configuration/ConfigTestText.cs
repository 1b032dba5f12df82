using Appliance.Configuration;

namespace Appliance.Tests.Configuration;

/// <summary>Shared helpers: load inline YAML and assert on errors.</summary>
internal static class ConfigTestText
{
    public const string SourceName = "test.yaml";

    public static readonly string BaseDirectory = Path.Combine(Path.GetTempPath(), "appliance-config-base");

    public static ConfigLoadResult Load(string yaml) => ConfigLoader.LoadText(yaml, SourceName, BaseDirectory);

    public static ApplianceConfig LoadValid(string yaml)
    {
        var result = Load(yaml);
        Assert.True(result.Succeeded, "unexpected errors:\n" + string.Join("\n", result.Errors));
        return result.Config;
    }

    /// <summary>Asserts the load failed with exactly one error, at this line, column and key, whose message contains the fragment.</summary>
    public static ConfigError SingleError(string yaml, int line, int column, string key, string messageFragment)
    {
        var result = Load(yaml);
        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        AssertError(error, line, column, key, messageFragment);
        return error;
    }

    public static void AssertError(ConfigError error, int line, int column, string key, string messageFragment)
    {
        Assert.Equal(SourceName, error.File);
        Assert.Equal((line, column, key), (error.Line, error.Column, error.Key));
        Assert.Contains(messageFragment, error.Message, StringComparison.Ordinal);
    }

    /// <summary>The repository root (the directory holding Appliance.sln), found upwards from the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Appliance.sln not found above " + AppContext.BaseDirectory);
    }
}
