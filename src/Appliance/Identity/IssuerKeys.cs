namespace Appliance.Identity;

/// <summary>
/// The current key set of one issuer, refreshed when a token names an unknown <c>kid</c> (key rotation) or
/// fetched keys grow old. Refreshes are coalesced and rate-limited, so a flood of tokens with made-up key ids
/// costs the identity provider at most one request per refresh interval.
/// </summary>
internal sealed class IssuerKeys
{
    /// <summary>Fetched keys older than this are refetched on the next verification (rate-limited too).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(1);

    /// <summary>A fetch that hangs must not hold verifications hostage.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    private readonly JwksOrigin _origin;
    private readonly TimeProvider _time;
    private readonly TimeSpan _refreshInterval;
    private readonly Lock _gate = new();
    private volatile IssuerKeySet? _current;
    private volatile string? _lastError;
    private Task? _inflight;
    private DateTimeOffset? _lastAttempt;

    public IssuerKeys(JwksOrigin origin, TimeProvider time, TimeSpan refreshInterval)
    {
        _origin = origin;
        _time = time;
        _refreshInterval = refreshInterval;
    }

    public JwksOrigin Origin => _origin;

    /// <summary>The keys in use, or null before the first successful load.</summary>
    public IssuerKeySet? Current => _current;

    /// <summary>Why the last load failed, or null when it succeeded.</summary>
    public string? LastError => _lastError;

    /// <summary>Installs keys loaded synchronously at start; counts as a load attempt for rate limiting.</summary>
    public void Install(IssuerKeySet set)
    {
        lock (_gate)
        {
            _current = set;
            _lastError = null;
            _lastAttempt = set.LoadedAt;
        }
    }

    /// <summary>
    /// The keys to verify with, after a refresh if <paramref name="keyId"/> is unknown, nothing is loaded yet,
    /// or fetched keys are stale — and the rate limit allows it. Null when no keys could ever be loaded.
    /// </summary>
    public ValueTask<IssuerKeySet?> GetAsync(string? keyId, CancellationToken ct)
    {
        var set = _current;
        if (set is not null && (keyId is null || set.Contains(keyId)) && !IsStale(set))
        {
            return new ValueTask<IssuerKeySet?>(set);
        }
        return RefreshThenGetAsync(ct);

        async ValueTask<IssuerKeySet?> RefreshThenGetAsync(CancellationToken ct)
        {
            await RefreshAsync(force: false, ct).ConfigureAwait(false);
            return _current;
        }
    }

    /// <summary>Reloads now, ignoring the rate limit (SIGHUP, admin call). Returns the error, or null.</summary>
    public async Task<string?> ReloadAsync(CancellationToken ct)
    {
        await RefreshAsync(force: true, ct).ConfigureAwait(false);
        return _lastError;
    }

    private bool IsStale(IssuerKeySet set) => _origin.ExpiresWithAge && _time.GetUtcNow() - set.LoadedAt >= MaxAge;

    private Task RefreshAsync(bool force, CancellationToken ct)
    {
        Task task;
        lock (_gate)
        {
            if (_inflight is { IsCompleted: false } running)
            {
                task = running; // join the fetch already under way
            }
            else
            {
                var now = _time.GetUtcNow();
                if (!force && _lastAttempt is { } last && now - last < _refreshInterval)
                {
                    return Task.CompletedTask;
                }
                _lastAttempt = now;
                task = _inflight = FetchAsync();
            }
        }
        // The shared fetch runs to completion even if this caller gives up.
        return task.WaitAsync(ct);
    }

    private async Task FetchAsync()
    {
        using var timeout = new CancellationTokenSource(FetchTimeout, _time);
        try
        {
            var json = await _origin.ReadAsync(timeout.Token).ConfigureAwait(false);
            _current = IssuerKeySet.Parse(json, _time.GetUtcNow());
            _lastError = null;
        }
        catch (OperationCanceledException)
        {
            _lastError = $"{_origin.Description}: no answer within {FetchTimeout.TotalSeconds:0} seconds";
        }
        // Anything else (network, I/O, bad JSON) becomes a reason; the previous keys stay in use.
        catch (Exception ex)
        {
            _lastError = $"{_origin.Description}: {ex.Message}";
        }
    }
}
