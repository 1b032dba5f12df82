using System.CommandLine;

namespace Appliance.Cli;

/// <summary>Where the session store is, for the commands that read it: <c>--config FILE</c> (record.dir, or state_dir/sessions) or <c>--dir DIR</c>.</summary>
internal sealed class StoreLocation
{
    public Option<string> Config { get; } = new("--config", "-c") { Description = "Configuration file (YAML); the store is record.dir, or state_dir/sessions" };

    public Option<string> Dir { get; } = new("--dir") { Description = "The store directory itself (instead of --config), e.g. a copy" };

    public Option<bool> Json { get; } = new("--json") { Description = "Machine-readable output" };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Dir);
        command.Options.Add(Json);
    }

    /// <summary>The store directory, or null after printing why there is none.</summary>
    public string? Resolve(ParseResult parse, TextWriter error)
    {
        var config = parse.GetValue(Config);
        var dir = parse.GetValue(Dir);
        if ((config is null) == (dir is null))
        {
            error.WriteLine("appliance: give --config FILE or --dir DIR (one of them)");
            return null;
        }
        if (config is not null)
        {
            var loaded = CliConfig.Load(config, error, checkFiles: false);
            if (loaded is null)
            {
                return null;
            }
            dir = loaded.Record.Directory(loaded.StateDir);
        }
        if (!Directory.Exists(dir))
        {
            error.WriteLine($"appliance: no session store at {dir} (nothing recorded yet?)");
            return null;
        }
        return dir;
    }
}
