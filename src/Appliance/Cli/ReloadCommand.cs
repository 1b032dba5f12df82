using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using Appliance.Configuration;

namespace Appliance.Cli;

/// <summary><c>appliance reload</c>: asks the running gateway to re-read its configuration, over the admin API.</summary>
internal static class ReloadCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "The gateway's configuration file (for admin.listen)", Required = true };
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding a JWT with an admin role (default: $APPLIANCE_TOKEN)" };
        var command = new Command("reload", "Reload the running gateway's configuration and policy; prints why a reload was rejected") { config, tokenFile };
        command.SetAction(async (parse, ct) =>
        {
            var loaded = ConfigLoader.LoadFile(parse.GetValue(config)!);
            if (!loaded.Succeeded || loaded.Config.Admin is null || !ListenEndpoint.TryParse(loaded.Config.Admin.Listen, out var endPoint, out _))
            {
                Console.Error.WriteLine("appliance: reload needs a valid config with admin.listen (or send the service SIGHUP: systemctl reload appliance)");
                return 2;
            }
            string? token = parse.GetValue(tokenFile) is { } file ? (await File.ReadAllTextAsync(file, ct)).Trim() : Environment.GetEnvironmentVariable("APPLIANCE_TOKEN");
            if (string.IsNullOrEmpty(token))
            {
                Console.Error.WriteLine("appliance: no token: pass --token-file or set APPLIANCE_TOKEN");
                return 2;
            }
            using var handler = new HttpClientHandler();
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
            var uri = new Uri(AdminAddress.Resolve(endPoint, loaded.Config.StateDir, handler), "/v1/policy/reload");
            using var request = new HttpRequestMessage(HttpMethod.Post, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            try
            {
                using var response = await http.SendAsync(request, ct);
                Console.WriteLine(await response.Content.ReadAsStringAsync(ct));
                return response.IsSuccessStatusCode ? 0 : 1;
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"appliance: cannot reach the admin API at {uri}: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
