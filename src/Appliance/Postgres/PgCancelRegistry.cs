using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;

namespace Appliance.Postgres;

/// <summary>
/// Maps the BackendKeyData the gateway issues to clients onto the upstream session's own key,
/// so a CancelRequest reaches the right server process and the client never learns the real key.
/// </summary>
internal sealed class PgCancelRegistry
{
    private readonly ConcurrentDictionary<int, Entry> _entries = new();
    private int _nextId = RandomNumberGenerator.GetInt32(1, 1 << 20);

    private sealed record Entry(int Secret, EndPoint Upstream, int UpstreamProcessId, int UpstreamSecret, Func<bool>? OnCancel);

    /// <summary>Issues a key for a session; dispose the result when the session ends.</summary>
    /// <param name="onCancel">Told of each cancel request first; true when it handled it (a statement held for approval was withdrawn).</param>
    public CancelKey Register(EndPoint upstream, int upstreamProcessId, int upstreamSecret, Func<bool>? onCancel = null)
    {
        int secret = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        while (true)
        {
            int id = Interlocked.Increment(ref _nextId) & 0x7FFFFFFF;
            if (id != 0 && _entries.TryAdd(id, new Entry(secret, upstream, upstreamProcessId, upstreamSecret, onCancel)))
            {
                return new CancelKey(this, id, secret);
            }
        }
    }

    /// <summary>Finds the upstream key for a client's cancel request; the secret is compared in constant time.</summary>
    public bool TryResolve(int processId, int secret, out EndPoint upstream, out int upstreamProcessId, out int upstreamSecret)
        => TryResolve(processId, secret, out upstream, out upstreamProcessId, out upstreamSecret, out _);

    /// <inheritdoc cref="TryResolve(int, int, out EndPoint, out int, out int)"/>
    public bool TryResolve(int processId, int secret, out EndPoint upstream, out int upstreamProcessId, out int upstreamSecret, out Func<bool>? onCancel)
    {
        if (_entries.TryGetValue(processId, out var entry)
            && CryptographicOperations.FixedTimeEquals(BitConverter.GetBytes(entry.Secret), BitConverter.GetBytes(secret)))
        {
            upstream = entry.Upstream;
            upstreamProcessId = entry.UpstreamProcessId;
            upstreamSecret = entry.UpstreamSecret;
            onCancel = entry.OnCancel;
            return true;
        }
        upstream = null!;
        upstreamProcessId = upstreamSecret = 0;
        onCancel = null;
        return false;
    }

    public int Count => _entries.Count;

    internal readonly struct CancelKey(PgCancelRegistry owner, int processId, int secret) : IDisposable
    {
        public int ProcessId { get; } = processId;
        public int Secret { get; } = secret;
        public void Dispose() => owner?._entries.TryRemove(ProcessId, out _);
    }
}
