using Appliance.Postgres;

namespace Appliance.Tests.Postgres;

/// <summary>
/// The client's write side shared by the relay and the session's own messages: writes never overlap, and an
/// injected message never lands inside a relayed message that is still being sent.
/// </summary>
public sealed class PgClientWriterTests
{
    /// <summary>Records each write; every other write completes asynchronously, so writers really contend.</summary>
    private sealed class RecordingStream : Stream
    {
        private readonly List<byte[]> _writes = [];
        private int _inFlight;
        private int _count;

        public int Overlaps;

        public List<byte[]> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _inFlight) > 1)
            {
                Interlocked.Increment(ref Overlaps);
            }
            if ((Interlocked.Increment(ref _count) & 1) == 0)
            {
                await Task.Yield();
            }
            lock (_writes)
            {
                _writes.Add(buffer.ToArray());
            }
            Interlocked.Decrement(ref _inFlight);
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Inject_WhileARelayedMessageIsHalfSent_WaitsForItsEnd()
    {
        var stream = new RecordingStream();
        var writer = new PgClientWriter(stream);
        await writer.WriteRelayedAsync(new byte[] { 1 }, atBoundary: false);
        await writer.InjectAsync([9]);
        Assert.Single(stream.Writes);
        await writer.WriteRelayedAsync(new byte[] { 2 }, atBoundary: true);
        await writer.InjectAsync([8]);
        Assert.Equal([1, 2, 9, 8], stream.Writes.Select(w => w[0]));
    }

    [Fact]
    public async Task RelayAndInjectors_Concurrently_NeverOverlapOrSplitAMessage()
    {
        var stream = new RecordingStream();
        var writer = new PgClientWriter(stream);
        const int Chunks = 3000;
        // Relayed chunks are [0, n low, n high]; every third ends a message. Injected ones are [1, injector, i].
        var relay = Task.Run(async () =>
        {
            for (int n = 0; n < Chunks; n++)
            {
                await writer.WriteRelayedAsync(new byte[] { 0, (byte)n, (byte)(n >> 8) }, atBoundary: n % 3 == 2);
            }
        });
        var injectors = Enumerable.Range(0, 4).Select(k => Task.Run(async () =>
        {
            for (int i = 0; i < 150; i++)
            {
                await writer.InjectAsync([1, (byte)k, (byte)i]);
            }
        })).ToArray();
        await Task.WhenAll([relay, .. injectors]).WaitAsync(TimeSpan.FromSeconds(60));
        // The last relayed chunk ends a message, so nothing injected is left waiting.
        var writes = stream.Writes;
        Assert.Equal(0, stream.Overlaps);
        Assert.Equal(Chunks + (4 * 150), writes.Count);
        var relayed = writes.Where(w => w[0] == 0).Select(w => w[1] | (w[2] << 8)).ToList();
        Assert.Equal(Enumerable.Range(0, Chunks), relayed);
        Assert.Equal(4 * 150, writes.Where(w => w[0] == 1).Select(w => (w[1], w[2])).Distinct().Count());
        for (int i = 1; i < writes.Count; i++)
        {
            if (writes[i][0] == 1 && writes[i - 1][0] == 0)
            {
                int previous = writes[i - 1][1] | (writes[i - 1][2] << 8);
                Assert.True(previous % 3 == 2, $"an injected message followed relayed chunk {previous}, inside a message");
            }
        }
    }
}
