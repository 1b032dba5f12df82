using System.Buffers.Binary;
using System.Text;
using Appliance.Configuration;
using Appliance.Recording;
using Appliance.Tests.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Tests.Recording;

/// <summary>A state directory with a running <see cref="RecordingService"/>, a manual clock, and a config file for the CLI.</summary>
internal sealed class RecordingTestStore : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private RecordingTestStore(string stateDir, ApplianceConfig config, ManualTimeProvider clock)
    {
        StateDir = stateDir;
        Config = config;
        Clock = clock;
        Service = new RecordingService(config, NullLoggerFactory.Instance, clock);
        ConfigPath = Path.Combine(stateDir, "appliance.yaml");
        File.WriteAllText(ConfigPath, $"state_dir: {stateDir}\n");
    }

    public string StateDir { get; }
    public ApplianceConfig Config { get; }
    public ManualTimeProvider Clock { get; }
    public RecordingService Service { get; }
    public string ConfigPath { get; }
    public string StoreDir => Path.Combine(StateDir, "sessions");

    public static async Task<RecordingTestStore> StartAsync(Action<RecordConfig>? configure = null)
    {
        var stateDir = Directory.CreateTempSubdirectory("appliance-recording-").FullName;
        var config = new ApplianceConfig { StateDir = stateDir };
        configure?.Invoke(config.Record);
        var store = new RecordingTestStore(stateDir, config, new ManualTimeProvider(Start));
        await store.Service.StartAsync(CancellationToken.None);
        return store;
    }

    /// <summary>Stops the service: everything recorded is written and fsynced.</summary>
    public Task StopAsync() => Service.StopAsync(CancellationToken.None);

    public SessionRecorder Session(string subject, string target, Guid? id = null) => Service.StartSession(new SessionStartInfo
    {
        SessionId = id ?? Guid.Empty,
        Subject = subject,
        Issuer = "ci",
        Roles = ["test"],
        ClaimsDigest = "ab12",
        Target = target,
        ClientAddress = "10.0.0.5:51234",
        TlsProtocol = "Tls13",
    })!;

    /// <summary>A PostgreSQL DataRow body: int16 column count, then int32 length (-1 for NULL) and bytes per column.</summary>
    public static byte[] DataRow(params string?[] values)
    {
        var stream = new MemoryStream();
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt16BigEndian(number, (short)values.Length);
        stream.Write(number[..2]);
        foreach (var value in values)
        {
            var bytes = value is null ? null : Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32BigEndian(number, bytes?.Length ?? -1);
            stream.Write(number);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Service.StopAsync(CancellationToken.None);
        Directory.Delete(StateDir, recursive: true);
    }
}
