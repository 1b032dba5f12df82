using Appliance.Configuration;
using Appliance.Storage;
using static Appliance.Tests.Configuration.ConfigTestText;

namespace Appliance.Tests.Configuration;

// The record: section (session recording).
public sealed partial class ConfigLoaderTests
{
    [Fact]
    public void LoadText_RecordOmitted_RecordsToStateDirSessionsWithDefaults()
    {
        var config = LoadValid("state_dir: /srv/gw");

        var record = config.Record;
        Assert.True(record.Enabled);
        Assert.Null(record.Dir);
        Assert.Equal("/srv/gw/sessions", record.Directory(config.StateDir));
        Assert.Equal((64 * 1024 * 1024, FsyncPolicy.Batch, 8 * 1024 * 1024, RecordWhenFull.Block, 64 * 1024),
            (record.SegmentMaxBytes, record.Fsync, record.QueueCapacity, record.WhenFull, record.MaxResultBytes));
        Assert.Null(record.RetentionMaxAge);
        Assert.Null(record.RetentionMaxTotalBytes);
    }

    [Fact]
    public void LoadText_RecordEveryKey_IsBound()
    {
        var config = LoadValid("""
            record:
              enabled: false
              dir: recordings
              segment_max_bytes: 16MiB
              fsync: interval
              fsync_interval: 250ms
              queue_capacity: 4194304
              when_full: fail-session
              max_result_bytes: 1MB
              retention: { max_age: 720h, max_total_bytes: 10GiB }
            """);

        var record = config.Record;
        Assert.False(record.Enabled);
        Assert.Equal(Path.Combine(BaseDirectory, "recordings"), record.Dir);
        Assert.Equal(Path.Combine(BaseDirectory, "recordings"), record.Directory(config.StateDir));
        Assert.Equal((16 * 1024 * 1024, FsyncPolicy.Interval, TimeSpan.FromMilliseconds(250), 4194304, RecordWhenFull.FailSession, 1_000_000),
            (record.SegmentMaxBytes, record.Fsync, record.FsyncInterval, record.QueueCapacity, record.WhenFull, record.MaxResultBytes));
        Assert.Equal(TimeSpan.FromHours(720), record.RetentionMaxAge);
        Assert.Equal(10L * 1024 * 1024 * 1024, record.RetentionMaxTotalBytes);
    }

    [Theory]
    [InlineData("always", FsyncPolicy.Always)]
    [InlineData("batch", FsyncPolicy.Batch)]
    [InlineData("interval", FsyncPolicy.Interval)]
    public void LoadText_RecordFsync_EachPolicy(string text, FsyncPolicy policy)
    {
        Assert.Equal(policy, LoadValid($"record: {{ fsync: {text} }}").Record.Fsync);
    }

    [Fact]
    public void LoadText_RecordUnknownKey_ListsTheKeys()
    {
        SingleError("""
            record:
              fsync: batch
              retain: 1h
            """, 3, 3, "record.retain", "unknown key 'retain'; expected one of: enabled, dir, segment_max_bytes, fsync, fsync_interval,");
    }

    [Fact]
    public void LoadText_RecordBadFsync_Reported()
    {
        SingleError("""
            record:
              fsync: sometimes
            """, 2, 10, "record.fsync", "expected one of: always, batch, interval, got 'sometimes'");
    }

    [Fact]
    public void LoadText_RecordFsyncIntervalWithoutIntervalPolicy_Reported()
    {
        SingleError("""
            record:
              fsync: always
              fsync_interval: 1s
            """, 3, 19, "record.fsync_interval", "applies only to fsync: interval");
    }

    [Fact]
    public void LoadText_RecordZeroFsyncInterval_Reported()
    {
        SingleError("record: { fsync: interval, fsync_interval: 0s }", 1, 44, "record.fsync_interval", "must be longer than 0s");
    }

    [Fact]
    public void LoadText_RecordBadWhenFull_Reported()
    {
        SingleError("""
            record:
              when_full: drop
            """, 2, 14, "record.when_full", "expected block or fail-session, got 'drop'");
    }

    [Theory]
    [InlineData("segment_max_bytes: 64 MiB", 22, "expected a size such as 65536, 512KiB, 64MiB or 10GiB, got '64 MiB'")]
    [InlineData("segment_max_bytes: 64mb", 22, "expected a size such as")]
    [InlineData("segment_max_bytes: 512KiB", 22, "must be from 1MiB to 1GiB, got 512KiB")]
    [InlineData("segment_max_bytes: 2GiB", 22, "must be from 1MiB to 1GiB, got 2GiB")]
    [InlineData("queue_capacity: 64KiB", 19, "must be from 4MiB to 1GiB, got 64KiB")]
    [InlineData("max_result_bytes: -1", 21, "expected a size such as")]
    [InlineData("max_result_bytes: 99999999999999999999", 21, "expected a size such as")]
    public void LoadText_RecordBadSize_Reported(string line, int column, string message)
    {
        var key = line[..line.IndexOf(':', StringComparison.Ordinal)];
        SingleError($"""
            record:
              {line}
            """, 2, column, "record." + key, message);
    }

    [Fact]
    public void LoadText_RecordEmptyDir_Reported()
    {
        SingleError("""
            record:
              dir: ""
            """, 2, 8, "record.dir", "must not be empty");
    }

    [Fact]
    public void LoadText_RecordNotABool_Reported()
    {
        SingleError("record: { enabled: yes please }", 1, 20, "record.enabled", "expected true or false, got 'yes please'");
    }

    [Fact]
    public void LoadText_RecordRetentionSmallerThanASegment_Reported()
    {
        SingleError("""
            record:
              segment_max_bytes: 64MiB
              retention:
                max_total_bytes: 16MiB
            """, 4, 22, "record.retention.max_total_bytes", "must be at least segment_max_bytes (67108864 bytes)");
    }

    [Fact]
    public void LoadText_RecordRetentionUnknownKeyAndBadAge_BothReported()
    {
        var result = Load("""
            record:
              retention:
                max_age: forever
                max_files: 3
            """);

        Assert.False(result.Succeeded);
        Assert.Collection(result.Errors,
            e => AssertError(e, 3, 14, "record.retention.max_age", "expected a duration such as 30s"),
            e => AssertError(e, 4, 5, "record.retention.max_files", "unknown key 'max_files'; expected one of: max_age, max_total_bytes"));
    }

    [Theory]
    [InlineData("65536", 65536L)]
    [InlineData("0", 0L)]
    [InlineData("1B", 1L)]
    [InlineData("512KiB", 512L * 1024)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("10GiB", 10L << 30)]
    [InlineData("2TiB", 2L << 40)]
    [InlineData("1KB", 1000L)]
    [InlineData("3GB", 3_000_000_000L)]
    public void ByteSizeText_Valid(string text, long expected)
    {
        Assert.True(ByteSizeText.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MiB")]
    [InlineData("1.5GiB")]
    [InlineData("-1")]
    [InlineData("1 KiB")]
    [InlineData("1kib")]
    [InlineData("9999999999TiB")]
    [InlineData("1234567890123456789")]
    public void ByteSizeText_Invalid(string text)
    {
        Assert.False(ByteSizeText.TryParse(text, out _));
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1000L, "1000")]
    [InlineData(65536L, "64KiB")]
    [InlineData(3L << 30, "3GiB")]
    public void ByteSizeText_Format(long value, string expected)
    {
        Assert.Equal(expected, ByteSizeText.Format(value));
    }
}
