using Appliance.Configuration;
using Appliance.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Recording;

/// <summary>
/// Owns the session store: opens it at start (recovery: torn tail truncated, damage reported loudly), hands out a
/// <see cref="SessionRecorder"/> per session, and closes it at stop (everything queued is written and fsynced).
/// Registered before the gateway, so it starts first and stops last.
/// </summary>
public sealed class RecordingService : IHostedService, IAsyncDisposable
{
    /// <summary>Largest record the store accepts; statements longer than about this are cut (and marked so).</summary>
    public const int MaxRecordBytes = 1024 * 1024;

    private readonly RecordConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private SegmentStore? _store;

    public RecordingService(ApplianceConfig config, ILoggerFactory loggers, TimeProvider time)
    {
        _config = config.Record;
        Directory = config.Record.Directory(config.StateDir);
        _logger = loggers.CreateLogger("Appliance.Recording");
        _time = time;
    }

    public bool Enabled => _config.Enabled;

    /// <summary>The store directory.</summary>
    public string Directory { get; }

    /// <summary>The open store, between start and stop.</summary>
    public SegmentStore? Store => _store;

    /// <summary>The store options a configuration asks for.</summary>
    public static StoreOptions StoreOptions(RecordConfig config, string directory, TimeProvider time, Action<StoreEvent>? events) => new()
    {
        Directory = directory,
        SegmentMaxBytes = config.SegmentMaxBytes,
        Fsync = config.Fsync,
        FsyncInterval = config.FsyncInterval,
        QueueBytes = config.QueueCapacity,
        MaxRecordBytes = MaxRecordBytes,
        RetentionMaxAge = config.RetentionMaxAge,
        RetentionMaxTotalBytes = config.RetentionMaxTotalBytes,
        Time = time,
        Events = events,
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            _logger.LogWarning("session recording is disabled (record.enabled: false)");
            return Task.CompletedTask;
        }
        _store = SegmentStore.Open(StoreOptions(_config, Directory, _time, OnStoreEvent));
        _logger.LogInformation("recording sessions to {Directory} (fsync: {Fsync}, when full: {WhenFull})", Directory,
            _config.Fsync.ToString().ToLowerInvariant(), _config.WhenFull == RecordWhenFull.Block ? "block" : "fail-session");
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _store, null) is { } store)
        {
            await store.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(CancellationToken.None));

    /// <summary>
    /// Starts recording a session and writes its start record; null when recording is disabled.
    /// </summary>
    /// <exception cref="RecordingRefusedException">The session cannot be recorded, so it must not start.</exception>
    public SessionRecorder? StartSession(SessionStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!Enabled)
        {
            return null;
        }
        var store = Volatile.Read(ref _store)
            ?? throw new RecordingRefusedException("session recording is not running", RecordingFailure.StoreUnavailable);
        var id = info.SessionId == Guid.Empty ? Guid.CreateVersion7(_time.GetUtcNow()) : info.SessionId;
        var recorder = new SessionRecorder(store, id, _time, _config.WhenFull == RecordWhenFull.FailSession, _config.MaxResultBytes);
        if (!recorder.Start(info))
        {
            throw new RecordingRefusedException(recorder.Failure == RecordingFailure.QueueFull
                ? "the session recording queue is full (record.when_full: fail-session)"
                : "the session store is not accepting records", recorder.Failure);
        }
        return recorder;
    }

    private void OnStoreEvent(StoreEvent e)
    {
        var level = e.Severity switch
        {
            StoreEventSeverity.Critical => LogLevel.Critical,
            StoreEventSeverity.Error => LogLevel.Error,
            StoreEventSeverity.Warning => LogLevel.Warning,
            _ => e.Kind is StoreEventKind.SegmentSealed ? LogLevel.Debug : LogLevel.Information,
        };
        _logger.Log(level, "session store: {Event}", e.ToString());
    }
}
