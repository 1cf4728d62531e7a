using Flotilla.Linearizability.Kv;

namespace Flotilla.Cli.Bench;

/// <summary>
/// One client loop: issues one logical operation at a time (a read or a write, by <see cref="BenchOptions.ReadRatio"/>)
/// until told to stop, and measures those that start inside the measured window.
/// <para>A logical write is "blind-ish": the client keeps the last version it knows per key and puts with it. If that
/// is stale (ErrVersion, or ErrNoKey), it Gets the key to learn the version and puts again, at most
/// <see cref="BenchOptions.PutAttemptsMax"/> times. Its latency covers all of that.</para>
/// </summary>
internal sealed class BenchClient
{
    private readonly int _index;
    private readonly IBenchSession _session;
    private readonly BenchOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ValueSource _values;
    private readonly Dictionary<int, long> _versions = [];
    private readonly BenchHistory.ClientLog? _log;
    private readonly int _ownedKeys;
    // Requests of the logical write in progress; added to Stats only if the write is inside the measured window.
    private int _opPuts;
    private int _opConflicts;

    public BenchClient(int index, IBenchSession session, BenchOptions options, TimeProvider time, BenchHistory? history)
    {
        _index = index;
        _session = session;
        _options = options;
        _time = time;
        // Distinct, reproducible streams per client; the multiplier spreads neighbouring seeds apart.
        _random = new Random(unchecked(options.Seed * 1_000_003 + index));
        _values = new ValueSource(options.ValueBytes, _random);
        _log = history?.ForClient(index);
        _ownedKeys = options.SharedWrites ? 0 : BenchWorkload.OwnedKeyCount(options.Keys, options.Clients, index);
    }

    public ClientStats Stats { get; } = new();

    /// <summary>Makes sure the keys this client writes exist (so reads find them) and learns their versions.
    /// Returns how many keys it created. Not measured.</summary>
    public async Task<int> PreloadAsync(CancellationToken abort)
    {
        var created = 0;
        for (var key = _index; key < _options.Keys; key += _options.Clients)
        {
            var read = await GetAsync(key, abort);
            if (read.Status == BenchStatus.Ok) continue;
            if (read.Status != BenchStatus.ErrNoKey) throw new BenchTargetException($"preloading {BenchWorkload.Key(key)}: get answered {read.Status} {read.Detail}");
            var write = await PutOnceAsync(key, _values.Next(), 0, abort);
            // ErrVersion: another run or client created it meanwhile; either way it exists now.
            if (write.Status is not (BenchStatus.Ok or BenchStatus.ErrVersion))
                throw new BenchTargetException($"preloading {BenchWorkload.Key(key)}: put answered {write.Status} {write.Detail}");
            if (write.Status == BenchStatus.Ok) created++;
        }
        return created;
    }

    /// <summary>Runs until <paramref name="stop"/> (finishing the operation in flight) or <paramref name="abort"/>
    /// (abandoning it: it stays in the history as never returned). Operations called at or after
    /// <paramref name="measureFrom"/> and before <paramref name="measureUntil"/> (timestamps) are counted.</summary>
    public async Task RunAsync(long measureFrom, long measureUntil, CancellationToken stop, CancellationToken abort)
    {
        while (!stop.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            var isRead = _options.ReadRatio >= 1 || (_options.ReadRatio > 0 && _random.NextDouble() < _options.ReadRatio);
            var started = _time.GetTimestamp();
            _opPuts = _opConflicts = 0;
            BenchStatus status;
            try
            {
                status = isRead ? (await GetAsync(_random.Next(_options.Keys), abort)).Status : await WriteAsync(abort);
            }
            catch (Exception) when (abort.IsCancellationRequested)
            {
                return;
            }
            if (started < measureFrom || started >= measureUntil) continue;
            (isRead ? Stats.Reads : Stats.Writes).Record(status, ElapsedNs(started));
            Stats.PutRequests += _opPuts;
            Stats.Conflicts += _opConflicts;
            Stats.RefreshGets += _opConflicts;
        }
    }

    private async Task<BenchStatus> WriteAsync(CancellationToken abort)
    {
        var key = WriteKey();
        var value = _values.Next();
        for (var attempt = 1; ; attempt++)
        {
            var expected = _versions.GetValueOrDefault(key);
            var put = await PutOnceAsync(key, value, expected, abort);
            _opPuts++;
            if (put.Status is not (BenchStatus.ErrVersion or BenchStatus.ErrNoKey) || attempt == BenchOptions.PutAttemptsMax) return put.Status;
            _opConflicts++;
            var read = await GetAsync(key, abort);
            if (read.Status is not (BenchStatus.Ok or BenchStatus.ErrNoKey)) return read.Status;
        }
    }

    private int WriteKey() =>
        _ownedKeys == 0 ? _random.Next(_options.Keys) : _index + _random.Next(_ownedKeys) * _options.Clients;

    /// <summary>One Get request: recorded in the history, and its answer updates the version cache.</summary>
    private async Task<BenchRead> GetAsync(int key, CancellationToken abort)
    {
        var name = BenchWorkload.Key(key);
        var called = _time.GetTimestamp();
        BenchRead read;
        try
        {
            read = await _session.GetAsync(name, abort);
        }
        catch (Exception) when (abort.IsCancellationRequested)
        {
            _log?.Add(KvInput.Get(name), called, null, 0);
            throw;
        }
        var returned = _time.GetTimestamp();
        switch (read.Status)
        {
            case BenchStatus.Ok:
                _versions[key] = read.Version;
                _log?.Add(KvInput.Get(name), called, KvOutput.Read(read.Value ?? "", read.Version), returned);
                break;
            case BenchStatus.ErrNoKey:
                _versions[key] = 0;
                _log?.Add(KvInput.Get(name), called, KvOutput.NoKey, returned);
                break;
            default:
                _log?.Add(KvInput.Get(name), called, null, returned);
                break;
        }
        return read;
    }

    /// <summary>One Put request: recorded in the history, and its answer updates the version cache.</summary>
    private async Task<BenchWrite> PutOnceAsync(int key, string value, long expected, CancellationToken abort)
    {
        var name = BenchWorkload.Key(key);
        var called = _time.GetTimestamp();
        BenchWrite write;
        try
        {
            write = await _session.PutAsync(name, value, expected, abort);
        }
        catch (Exception) when (abort.IsCancellationRequested)
        {
            _log?.Add(KvInput.Put(name, value, expected), called, null, 0);
            _versions.Remove(key);
            throw;
        }
        var returned = _time.GetTimestamp();
        // A blind put (etcd) says which version it overwrote; record it as the conditional put at that version.
        var input = KvInput.Put(name, value, write.PreviousVersion ?? expected);
        switch (write.Status)
        {
            case BenchStatus.Ok:
                _versions[key] = (write.PreviousVersion ?? expected) + 1;
                _log?.Add(input, called, KvOutput.Ok, returned);
                break;
            case BenchStatus.ErrVersion:
                _log?.Add(input, called, KvOutput.VersionMismatch, returned);
                break;
            case BenchStatus.ErrNoKey:
                _log?.Add(input, called, KvOutput.NoKey, returned);
                break;
            case BenchStatus.ErrMaybe:
                _versions.Remove(key);
                _log?.Add(input, called, KvOutput.Maybe, returned);
                break;
            default:
                // No answer or refused: unknown outcome, and our cached version may now be stale.
                _versions.Remove(key);
                _log?.Add(input, called, null, returned);
                break;
        }
        return write;
    }

    private long ElapsedNs(long started) => (long)((Int128)(_time.GetTimestamp() - started) * 1_000_000_000 / _time.TimestampFrequency);
}

/// <summary>The target answered in a way the run cannot continue from (e.g. a preload failed).</summary>
public sealed class BenchTargetException(string message) : Exception(message);
