using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Appliance.Identity;

/// <summary>
/// Principals of tokens verified recently, keyed by the token's SHA-256. CI fleets open many connections with
/// the same token; this saves a signature check per connection. Bounded in size and in age, and an entry never
/// outlives its token. Only successes are stored.
/// </summary>
internal sealed class VerifiedTokenCache
{
    public const int DefaultCapacity = 10_000;

    /// <summary>Upper bound on how long a key removal or role change can go unnoticed by a cached token.</summary>
    public static readonly TimeSpan MaxEntryLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<TokenDigest, Entry> _entries = new();
    private readonly int _capacity;
    private readonly Lock _trimGate = new();
    // ConcurrentDictionary.Count takes every lock; keep our own (approximate under races, exact enough to bound).
    private int _count;

    public VerifiedTokenCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    public int Count => Volatile.Read(ref _count);

    public bool TryGet(TokenDigest key, DateTimeOffset now, [NotNullWhen(true)] out Principal? principal)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (now < entry.ValidUntil)
            {
                principal = entry.Principal;
                return true;
            }
            Remove(key, entry);
        }
        principal = null;
        return false;
    }

    public void Add(TokenDigest key, Principal principal, DateTimeOffset now)
    {
        var validUntil = principal.ExpiresAt < now + MaxEntryLifetime ? principal.ExpiresAt : now + MaxEntryLifetime;
        if (_capacity == 0 || validUntil <= now)
        {
            return;
        }
        if (Count >= _capacity)
        {
            Trim(now);
        }
        if (_entries.TryAdd(key, new Entry(principal, validUntil)))
        {
            Interlocked.Increment(ref _count);
        }
    }

    public void Clear()
    {
        lock (_trimGate)
        {
            foreach (var pair in _entries)
            {
                Remove(pair.Key, pair.Value);
            }
        }
    }

    // Drop expired entries, then the soonest-to-expire tenth, so a full cache costs one sort per many inserts.
    private void Trim(DateTimeOffset now)
    {
        lock (_trimGate)
        {
            if (Count < _capacity)
            {
                return; // another thread trimmed while we waited
            }
            var snapshot = _entries.ToArray();
            Array.Sort(snapshot, static (a, b) => a.Value.ValidUntil.CompareTo(b.Value.ValidUntil));
            var target = _capacity - Math.Max(1, _capacity / 10);
            foreach (var (key, entry) in snapshot)
            {
                if (entry.ValidUntil > now && Count <= target)
                {
                    break;
                }
                Remove(key, entry);
            }
        }
    }

    private void Remove(TokenDigest key, Entry entry)
    {
        if (_entries.TryRemove(KeyValuePair.Create(key, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private readonly record struct Entry(Principal Principal, DateTimeOffset ValidUntil);
}
