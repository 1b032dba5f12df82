using System.CommandLine;
using Appliance.Hosting;
using Microsoft.Extensions.Hosting;

namespace Appliance.Cli;

/// <summary><c>appliance run --config FILE</c>: the service.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Configuration file (YAML)", Required = true };
        var command = new Command("run", "Run the gateway service") { config };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = CliConfig.Load(parse.GetValue(config)!, Console.Error);
            if (loaded is null)
            {
                return 2;
            }
            var secrets = SecretFiles.Problems(loaded);
            if (secrets.Count > 0)
            {
                foreach (var problem in secrets)
                {
                    Console.Error.WriteLine($"appliance: refusing to start: {problem}");
                }
                return 2;
            }
            try
            {
                using var host = GatewayHost.Build(loaded);
                await host.RunAsync(ct);
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.Net.Sockets.SocketException or Tls.TlsMaterialException or Storage.StoreOpenException)
            {
                Console.Error.WriteLine($"appliance: cannot start: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
