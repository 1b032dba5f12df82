using Appliance.Configuration;

namespace Appliance.Cli;

/// <summary>Loads a configuration file for a command and prints every error, one per line.</summary>
internal static class CliConfig
{
    public static ApplianceConfig? Load(string path, TextWriter errors, bool checkFiles = true)
    {
        if (!File.Exists(path))
        {
            errors.WriteLine($"appliance: config file '{path}' does not exist");
            return null;
        }
        var result = ConfigLoader.LoadFile(path);
        var problems = result.Errors.ToList();
        if (result.Succeeded && checkFiles)
        {
            problems.AddRange(ConfigLoader.CheckReferencedFiles(result.Config, path));
        }
        foreach (var error in problems)
        {
            errors.WriteLine(error.ToString());
        }
        return problems.Count == 0 ? result.Config : null;
    }
}
