using System.Diagnostics;

namespace Appliance.Tests.Cli;

/// <summary><c>appliance check</c> run as a process, as an operator would.</summary>
public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("appliance-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Stdout, string Stderr)> ApplianceAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "appliance.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private string Write(string name, string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private string Config(string rules = "allow: [select]") => Write("appliance.yaml", $$"""
        state_dir: {{_dir}}/state
        identity:
          issuers:
            - name: ci
              issuer: https://issuer.example
              audiences: [appliance]
              jwks_file: jwks.json
        roles:
          - name: test
            claims: { repository: acme/shop }
        targets:
          - name: orders
            kind: postgres
            listen: 127.0.0.1:6543
            upstream: { host: 127.0.0.1, database: orders, user: gw, password_file: secret }
            rules:
              - roles: [test]
                {{rules}}
        """);

    [Fact]
    public async Task Check_ValidConfig_ExitsZero()
    {
        Write("jwks.json", """{"keys":[]}""");
        Write("secret", "pw");
        var (code, stdout, stderr) = await ApplianceAsync("check", "--config", Config());
        Assert.True(code == 0, stderr);
        Assert.Contains("ok (1 targets, 1 roles, 1 issuers)", stdout);
    }

    [Fact]
    public async Task Check_UnknownClass_PrintsFileLineAndKeyAndFails()
    {
        Write("jwks.json", """{"keys":[]}""");
        Write("secret", "pw");
        var path = Config("allow: [selekt]");
        var (code, _, stderr) = await ApplianceAsync("check", "--config", path);
        Assert.Equal(1, code);
        Assert.Contains($"{path}:18:", stderr);
        Assert.Contains("targets[0].rules[0].allow[0]: unknown statement class 'selekt'", stderr.Replace("\"", "'"));
    }

    [Fact]
    public async Task Check_WorldReadableSecret_NamesTheFile()
    {
        Write("jwks.json", """{"keys":[]}""");
        var secret = Write("secret", "pw", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var (code, _, stderr) = await ApplianceAsync("check", "--config", Config());
        Assert.Equal(1, code);
        Assert.Contains(secret, stderr);
    }

    [Fact]
    public async Task Check_MissingReferencedFile_Fails()
    {
        Write("secret", "pw");
        var (code, _, stderr) = await ApplianceAsync("check", "--config", Config());
        Assert.Equal(1, code);
        Assert.Contains("jwks_file", stderr);
    }
}
