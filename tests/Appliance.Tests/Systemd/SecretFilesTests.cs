using Appliance.Configuration;
using Appliance.Hosting;
using Appliance.Tests.Configuration;

namespace Appliance.Tests.Systemd;

/// <summary>The start-up check that secret files belong to the service user alone.</summary>
public sealed class SecretFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0x180)] // 0600
    [InlineData(0x100)] // 0400
    public void Problems_OwnerOnly_None(int mode)
    {
        var config = Config(passwordFile: Secret("orders", mode));

        Assert.Empty(SecretFiles.Problems(config));
    }

    [Theory]
    [InlineData(0x1A4, "0644")]
    [InlineData(0x1A0, "0640")]
    [InlineData(0x184, "0604")]
    [InlineData(0x190, "0620")] // group may write it: it could be swapped for one the group knows
    [InlineData(0x1B6, "0666")]
    public void Problems_OpenToGroupOrOthers_NamesFileKeyAndMode(int mode, string octal)
    {
        var path = Secret("orders", mode);
        var config = Config(passwordFile: path);

        var problem = Assert.Single(SecretFiles.Problems(config));

        Assert.Contains($"'{path}'", problem);
        Assert.Contains($"mode {octal}", problem);
        Assert.StartsWith("targets[0].upstream.password_file:", problem);
    }

    [Fact]
    public void Problems_TlsKeyFileShared_Reported()
    {
        var key = Secret("gateway.key", 0x1A4);
        var config = Config(keyFile: key);

        var problem = Assert.Single(SecretFiles.Problems(config));

        Assert.StartsWith("targets[0].tls.key_file:", problem);
        Assert.Contains(key, problem);
    }

    [Fact]
    public void Problems_SymlinkToSharedFile_JudgesTheTarget()
    {
        var target = Secret("real", 0x1A4);
        var link = Path.Combine(_dir.Path, "link");
        File.CreateSymbolicLink(link, target);

        Assert.Single(SecretFiles.Problems(Config(passwordFile: link)));
    }

    [Fact]
    public void Problems_MissingFile_LeftToTheConfigurationCheck()
    {
        Assert.Empty(SecretFiles.Problems(Config(passwordFile: Path.Combine(_dir.Path, "absent"))));
    }

    [Fact]
    public void EnsurePrivate_EverySharedFile_OneExceptionListingAll()
    {
        var config = Config(passwordFile: Secret("a", 0x1A4), keyFile: Secret("b", 0x1A0));

        var e = Assert.Throws<InvalidOperationException>(() => SecretFiles.EnsurePrivate(config));

        Assert.Equal(2, e.Message.Split('\n').Length);
    }

    private string Secret(string name, int mode)
    {
        var path = _dir.Write(name, "secret\n");
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        return path;
    }

    private static ApplianceConfig Config(string? passwordFile = null, string? keyFile = null) => new()
    {
        Targets =
        [
            new TargetConfig
            {
                Name = "orders",
                Upstream = new UpstreamConfig { Host = "db", Database = "orders", User = "gw", PasswordFile = passwordFile },
                Tls = keyFile is null ? null : new TlsConfig { CertFile = keyFile + ".crt", KeyFile = keyFile },
            },
        ],
    };
}
