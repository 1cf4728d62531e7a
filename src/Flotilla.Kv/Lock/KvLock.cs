using Flotilla.Kv.Client;

namespace Flotilla.Kv.Lock;

/// <summary>
/// A lease-based mutual-exclusion lock built only on <see cref="IKvClient.GetAsync"/> and
/// <see cref="IKvClient.PutAsync"/> of one key. See docs/kv.md for the full argument; in short:
/// <list type="bullet">
/// <item>Acquire: read the key; if it is absent or "free", put "held:TOKEN" at the version read. Every put is a
/// compare-and-set, so of two racing acquirers only one can win.</item>
/// <item>ErrMaybe (our put may or may not have landed): read the key back; TOKEN is unique to this acquisition,
/// so "held:TOKEN" there means we won, anything else means we did not.</item>
/// <item>Lease: the holder re-puts "held:TOKEN" every <see cref="KvLockOptions.RenewInterval"/>, bumping the version.
/// A waiter that sees the same version unchanged for <see cref="KvLockOptions.Lease"/> (on its own clock, counted
/// from a read that returned that version) may take the lock over with a put at that version: a crashed holder
/// is locked out after one lease, and a live holder's renewal makes the takeover put fail.</item>
/// <item>The holder trusts the lock only until <see cref="ValidUntil"/>: <c>Lease × SafetyFactor</c> after it
/// <em>sent</em> its last successful take/renew put. The waiter's lease clock starts after that put was applied,
/// so with bounded clock-rate drift the holder's trust ends before any takeover. No synchronized clocks needed.</item>
/// <item><see cref="FencingToken"/>: the lock key's version, which only grows. Give it to the resources the lock
/// protects so they can reject a delayed request from a holder whose lease ran out.</item>
/// </list>
/// One instance = one client's handle on one lock key; use it from one logical thread.
/// </summary>
public sealed class KvLock : IAsyncDisposable
{
    private readonly IKvClient _client;
    private readonly string _key;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly KvLockOptions _options;
    private string? _token;
    private ulong _version;
    private long _validUntil;
    private CancellationTokenSource? _renewing;
    private Task? _renewLoop;

    public KvLock(IKvClient client, string key, TimeProvider time, Random random, KvLockOptions? options = null)
    {
        _client = client;
        _key = key;
        _time = time;
        _random = random;
        _options = options ?? new KvLockOptions();
        if (_options.RenewInterval >= _options.Lease * _options.SafetyFactor)
            throw new ArgumentException("RenewInterval must be shorter than Lease × SafetyFactor", nameof(options));
    }

    /// <summary>Whether this client holds the lock now: acquired, not released, and its lease still trusted.</summary>
    public bool IsHeld => _token is not null && _time.GetTimestamp() < _validUntil;

    /// <summary>The timestamp (of the lock's <see cref="TimeProvider"/>) until which the current hold is trusted.</summary>
    public long ValidUntil => _validUntil;

    /// <summary>The lock key's version when it was last taken or renewed by us: grows with every hold and renewal.</summary>
    public ulong FencingToken => _version;

    /// <summary>Renewals that could not be confirmed before the lease ran out (the hold was lost).</summary>
    public int LostHolds { get; private set; }

    /// <summary>Waits until this client holds the lock. Returns false only if the store became unavailable.</summary>
    public async Task<bool> AcquireAsync(CancellationToken cancellationToken = default)
    {
        if (_token is not null) throw new InvalidOperationException("this handle already holds (or held and did not release) the lock");
        var token = $"{_random.NextInt64():x16}{_random.NextInt64():x16}";
        (ulong Version, long FirstSeen)? watched = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = await _client.GetAsync(_key, cancellationToken);
            ulong takeAt;
            switch (read.Status)
            {
                case KvStatus.ErrNoKey:
                    takeAt = 0;
                    break;
                case KvStatus.Ok when KvLockValue.IsHeldBy(read.Value!, token):
                    // An earlier put of ours that reported Unavailable landed after all.
                    return await HoldFromRenewalAsync(token, read.Version, cancellationToken);
                case KvStatus.Ok when KvLockValue.IsFree(read.Value!):
                    takeAt = read.Version;
                    break;
                case KvStatus.Ok:
                    // Held by someone else: take over only after its version has stood still for a whole lease.
                    var now = _time.GetTimestamp();
                    if (watched is not { } w || w.Version != read.Version) watched = (read.Version, now);
                    if (_time.GetElapsedTime(watched.Value.FirstSeen) < _options.Lease)
                    {
                        await Task.Delay(_options.PollInterval, _time, cancellationToken);
                        continue;
                    }
                    takeAt = read.Version;
                    break;
                case KvStatus.Unavailable:
                    return false;
                default:
                    throw new InvalidOperationException($"unexpected {read.Status} reading lock key '{_key}': {read.Detail}");
            }

            var sent = _time.GetTimestamp();
            var put = await _client.PutAsync(_key, KvLockValue.Held(token), takeAt, cancellationToken);
            switch (put.Status)
            {
                case KvStatus.Ok:
                    StartHolding(token, takeAt + 1, sent);
                    return true;
                case KvStatus.ErrMaybe:
                case KvStatus.Unavailable:
                    // Maybe ours landed: the next read tells (our token is unique), and the hold then starts with
                    // a fresh renewal rather than trusting a lease whose start we do not know.
                    continue;
                case KvStatus.ErrVersion:
                case KvStatus.ErrNoKey:
                    continue; // someone else moved first; look again
                default:
                    throw new InvalidOperationException($"unexpected {put.Status} writing lock key '{_key}': {put.Detail}");
            }
        }
    }

    /// <summary>
    /// Gives the lock up: stops renewing, then writes "free" at our version. If that write is lost or ambiguous the
    /// lock is still released for everyone else at the latest one lease later, because we no longer renew.
    /// </summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (_token is not { } token) return;
        var version = _version;
        _token = null;
        _validUntil = 0;
        await StopRenewingAsync();
        // A renewal cancelled in flight may still have landed (version + 1): look, and free that version instead.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var put = await _client.PutAsync(_key, KvLockValue.Free, version, cancellationToken);
            if (put.Status is KvStatus.Ok or KvStatus.Unavailable) return;
            var read = await _client.GetAsync(_key, cancellationToken);
            if (read.Status != KvStatus.Ok || !KvLockValue.IsHeldBy(read.Value!, token)) return; // freed, or someone else's now
            version = read.Version;
        }
    }

    private async Task<bool> HoldFromRenewalAsync(string token, ulong version, CancellationToken cancellationToken)
    {
        // We hold the key at `version` but do not know when that write was applied: renew now to start a known lease.
        var sent = _time.GetTimestamp();
        var renewed = await _client.PutAsync(_key, KvLockValue.Held(token), version, cancellationToken);
        if (renewed.Status == KvStatus.Ok)
        {
            StartHolding(token, version + 1, sent);
            return true;
        }
        var check = await _client.GetAsync(_key, cancellationToken);
        if (check.Status == KvStatus.Ok && KvLockValue.IsHeldBy(check.Value!, token) && check.Version == version + 1)
        {
            StartHolding(token, version + 1, sent);
            return true;
        }
        // Taken over (our lease must have run out meanwhile) or the store is unreachable: start again.
        return await AcquireAsync(cancellationToken);
    }

    private void StartHolding(string token, ulong version, long sentAt)
    {
        _token = token;
        _version = version;
        _validUntil = sentAt + LeaseTicks();
        _renewing = new CancellationTokenSource();
        _renewLoop = RenewLoopAsync(token, _renewing.Token);
    }

    private long LeaseTicks() => (long)(_options.Lease.TotalSeconds * _options.SafetyFactor * _time.TimestampFrequency);

    private async Task RenewLoopAsync(string token, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested && _token == token)
            {
                await Task.Delay(_options.RenewInterval, _time, stop);
                var version = _version;
                var sent = _time.GetTimestamp();
                var put = await _client.PutAsync(_key, KvLockValue.Held(token), version, stop);
                if (_token != token) return;
                var renewed = put.Status == KvStatus.Ok;
                if (put.Status == KvStatus.ErrMaybe)
                {
                    var check = await _client.GetAsync(_key, stop);
                    if (_token != token) return;
                    renewed = check.Status == KvStatus.Ok && KvLockValue.IsHeldBy(check.Value!, token) && check.Version == version + 1;
                }
                if (renewed)
                {
                    _version = version + 1;
                    _validUntil = sent + LeaseTicks();
                }
                else if (put.Status != KvStatus.Unavailable)
                {
                    // Our version moved under us: the lease ran out and someone took over. The hold is gone.
                    LostHolds++;
                    _validUntil = 0;
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task StopRenewingAsync()
    {
        if (_renewing is null) return;
        // Cancel, not CancelAsync: the callbacks must run here, on the node's thread, not on the thread pool.
        _renewing.Cancel();
        if (_renewLoop is not null) await _renewLoop;
        _renewing.Dispose();
        _renewing = null;
        _renewLoop = null;
    }

    public async ValueTask DisposeAsync() => await StopRenewingAsync();
}
