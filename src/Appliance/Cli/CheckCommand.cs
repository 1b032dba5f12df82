using System.CommandLine;

namespace Appliance.Cli;

/// <summary><c>appliance check --config FILE</c>: validates a configuration and its referenced files.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Configuration file (YAML)", Required = true };
        var command = new Command("check", "Validate a configuration file; exits non-zero on errors") { config };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(config)!;
            var loaded = CliConfig.Load(path, Console.Error);
            if (loaded is null)
            {
                return 1;
            }
            var secrets = Hosting.SecretFiles.Problems(loaded);
            foreach (var problem in secrets)
            {
                Console.Error.WriteLine(problem);
            }
            if (secrets.Count > 0)
            {
                return 1;
            }
            Console.WriteLine($"{path}: ok ({loaded.Targets.Count} targets, {loaded.Roles.Count} roles, {loaded.Identity.Issuers.Count} issuers)");
            return 0;
        });
        return command;
    }
}
