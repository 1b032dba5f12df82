using System.CommandLine;
using Appliance.Identity;

namespace Appliance.Cli;

/// <summary>
/// <c>appliance token keygen|mint</c>: a signing key and tokens for trying the gateway without an OIDC provider
/// (demos, load runs, staging). Production tokens come from the CI system's issuer.
/// </summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        return new Command("token", "Create signing keys and tokens for testing (production tokens come from your CI's OIDC issuer)")
        {
            KeyGen(),
            Mint(),
        };
    }

    private static Command KeyGen()
    {
        var dir = new Option<string>("--out") { Description = "Directory for signing-key.pem and jwks.json", Required = true };
        var alg = new Option<string>("--alg") { Description = "RS256 or ES256", DefaultValueFactory = _ => "ES256" };
        var command = new Command("keygen", "Generate a signing key (PEM) and its public JWKS") { dir, alg };
        command.SetAction(parse =>
        {
            var outDir = parse.GetValue(dir)!;
            Directory.CreateDirectory(outDir);
            var key = SigningKeys.Generate(parse.GetValue(alg)!);
            SigningKeys.WritePrivateKeyPem(key, Path.Combine(outDir, "signing-key.pem"));
            SigningKeys.WriteJwks(Path.Combine(outDir, "jwks.json"), key);
            Console.WriteLine($"wrote {Path.Combine(outDir, "signing-key.pem")} and {Path.Combine(outDir, "jwks.json")}");
            return 0;
        });
        return command;
    }

    private static Command Mint()
    {
        var key = new Option<string>("--key") { Description = "Private signing key (PEM)", Required = true };
        var issuer = new Option<string>("--issuer") { Required = true };
        var audience = new Option<string>("--audience") { Required = true };
        var subject = new Option<string>("--subject") { DefaultValueFactory = _ => "test-subject" };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime, e.g. 15m or 1h", DefaultValueFactory = _ => "1h" };
        var claims = new Option<string[]>("--claim") { Description = "name=value; repeat a name for an array claim", AllowMultipleArgumentsPerToken = false };
        var command = new Command("mint", "Print a signed token") { key, issuer, audience, subject, ttl, claims };
        command.SetAction(parse =>
        {
            if (!Configuration.DurationText.TryParse(parse.GetValue(ttl), out var lifetime))
            {
                Console.Error.WriteLine("appliance: --ttl: expected a duration such as 15m or 1h");
                return 2;
            }
            var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var c in parse.GetValue(claims) ?? [])
            {
                int eq = c.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    Console.Error.WriteLine($"appliance: --claim '{c}': expected name=value");
                    return 2;
                }
                values.TryAdd(c[..eq], []);
                values[c[..eq]].Add(c[(eq + 1)..]);
            }
            var claimMap = values.ToDictionary(v => v.Key, v => v.Value.Count == 1 ? (object)v.Value[0] : v.Value.ToArray());
            var minter = new TokenMinter(SigningKeys.ReadPrivateKeyPem(parse.GetValue(key)!));
            Console.WriteLine(minter.Mint(parse.GetValue(issuer)!, parse.GetValue(audience)!, parse.GetValue(subject)!, lifetime, claimMap));
            return 0;
        });
        return command;
    }
}
