using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Runtime.Storage;

namespace Flotilla.Kv.Storage;

/// <summary>
/// The single-node server's durability: a snapshot file plus an append-only log of applied puts, over
/// <see cref="IFileSystem"/> (so the simulator's power-loss disk tests it).
/// <para>Files: <c>kv/snapshot</c> = <c>u32 magic, u64 generation, u32 crc32, u32 bytes, state</c>, written atomically;
/// <c>kv/log-GENERATION</c> = framed puts applied after that snapshot. Recovery loads the snapshot and replays its log
/// up to the first torn or damaged record (a crash mid-write), cutting the tail off.</para>
/// <para>Replaying a put that is already reflected in the state is harmless: its version no longer matches, so it is
/// rejected, exactly as a retried put would be. That is why compaction may snapshot state that includes staged puts
/// and still write those puts to the next log.</para>
/// <para>Group commit: puts staged while an fsync runs go out together in the next one.</para>
/// </summary>
public sealed class KvFileLog : IKvLog, IDisposable
{
    private const uint SnapshotMagic = 0x564B4C46; // "FLKV"
    private const int SnapshotHeaderBytes = 20;

    private readonly IFileSystem _fs;
    private readonly KvFileLogOptions _options;
    private readonly KvStateMachine _state;
    private ArrayBufferWriter<byte> _staged = new();
    private IStorageFile _file;
    private ulong _generation;
    private long _fileBytes;
    private long _appended;
    private long _durable;
    private Task? _flush;
    private Exception? _failure;

    private KvFileLog(IFileSystem fs, KvFileLogOptions options, KvStateMachine state, IStorageFile file, ulong generation, long fileBytes)
    {
        _fs = fs;
        _options = options;
        _state = state;
        _file = file;
        _generation = generation;
        _fileBytes = fileBytes;
    }

    /// <summary>The recovered state machine: the server applies puts to it, and compaction snapshots it.</summary>
    public KvStateMachine State => _state;

    public long LastAppended => _appended;

    /// <summary>Bytes of the current log file (bounded by compaction).</summary>
    public long LogBytes => _fileBytes + _staged.WrittenCount;

    /// <summary>How many fsyncs of the log have run: with group commit, far fewer than puts under load.</summary>
    public long SyncCount { get; private set; }

    /// <summary>What recovery found: records replayed and bytes of a torn tail cut off.</summary>
    public (long Replayed, long TornBytes) Recovered { get; private set; }

    /// <summary>Opens (or creates) the store and rebuilds the state machine from it.</summary>
    public static async Task<KvFileLog> OpenAsync(IFileSystem fs, KvFileLogOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KvFileLogOptions();
        var (generation, state) = await LoadSnapshotAsync(fs, options, cancellationToken);
        var logName = LogName(options, generation);
        var file = fs.Open(logName, create: true);
        var data = new byte[file.Length];
        for (var done = 0; done < data.Length;)
        {
            var n = await file.ReadAsync(done, data.AsMemory(done), cancellationToken);
            if (n == 0) break;
            done += n;
        }
        var offset = 0;
        long replayed = 0;
        while (KvLogRecord.TryRead(data.AsSpan(offset), out var put, out var recordBytes))
        {
            if (KvLimits.Validate(put) is null) state.Apply(put);
            offset += recordBytes;
            replayed++;
        }
        var torn = data.Length - offset;
        if (torn > 0)
        {
            // A crash mid-append left a partial record: cut it so new records follow the last good one.
            file.SetLength(offset);
            await file.FlushAsync(cancellationToken);
        }
        // Logs of older generations are leftovers of a compaction that crashed after its snapshot was durable.
        foreach (var stale in fs.List(options.Directory + "/log-").Where(n => n != logName)) fs.Delete(stale);
        await fs.SyncDirectoryAsync(cancellationToken);
        return new KvFileLog(fs, options, state, file, generation, offset) { Recovered = (replayed, torn) };
    }

    public long Append(PutRequest put)
    {
        if (_failure is not null) throw new IOException("the KV log failed earlier and cannot accept writes", _failure);
        KvLogRecord.Write(_staged, put);
        return ++_appended;
    }

    public async ValueTask WaitDurableAsync(long sequence, CancellationToken cancellationToken = default)
    {
        while (_durable < sequence)
        {
            if (_failure is not null) throw new IOException("the KV log failed earlier", _failure);
            // One flush at a time; whoever finds none running starts the next, which takes everything staged so far.
            if (_flush is null || _flush.IsCompleted) _flush = FlushAsync();
            await _flush.WaitAsync(cancellationToken);
        }
    }

    private async Task FlushAsync()
    {
        try
        {
            var target = _appended;
            var batch = _staged;
            _staged = new ArrayBufferWriter<byte>();
            await _file.WriteAsync(_fileBytes, batch.WrittenMemory);
            _fileBytes += batch.WrittenCount;
            await _file.FlushAsync();
            SyncCount++;
            _durable = target;
            if (_fileBytes > _options.CompactAfterBytes) await CompactAsync();
        }
        catch (Exception e)
        {
            // After a failed write or fsync nothing staged can be trusted to reach the disk: stop accepting writes.
            _failure ??= e;
            throw;
        }
    }

    /// <summary>Writes the whole state as snapshot generation g+1, then switches to an empty log g+1.</summary>
    private async Task CompactAsync()
    {
        var next = _generation + 1;
        await WriteSnapshotAsync(_fs, _options, next, _state.Snapshot());
        var old = _file;
        _file = _fs.Open(LogName(_options, next), create: true);
        _file.SetLength(0);
        await _file.FlushAsync();
        old.Dispose();
        _fs.Delete(LogName(_options, _generation));
        await _fs.SyncDirectoryAsync();
        _generation = next;
        _fileBytes = 0;
    }

    private static string LogName(KvFileLogOptions options, ulong generation) =>
        $"{options.Directory}/log-{generation.ToString("D20", CultureInfo.InvariantCulture)}";

    private static string SnapshotName(KvFileLogOptions options) => $"{options.Directory}/snapshot";

    private static async Task WriteSnapshotAsync(IFileSystem fs, KvFileLogOptions options, ulong generation, byte[] state)
    {
        var bytes = new byte[SnapshotHeaderBytes + state.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, SnapshotMagic);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(4), generation);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), Crc32.HashToUInt32(state));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)state.Length);
        state.CopyTo(bytes.AsSpan(SnapshotHeaderBytes));
        await fs.WriteAtomicallyAsync(SnapshotName(options), bytes);
    }

    private static async Task<(ulong Generation, KvStateMachine State)> LoadSnapshotAsync(IFileSystem fs, KvFileLogOptions options, CancellationToken cancellationToken)
    {
        var name = SnapshotName(options);
        if (!fs.Exists(name)) return (0, new KvStateMachine());
        var bytes = await fs.ReadAllAsync(name, cancellationToken);
        // The snapshot is replaced atomically, so damage here is real corruption, not a crash: refuse to start
        // rather than silently serve a store that lost acknowledged data.
        if (bytes.Length < SnapshotHeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != SnapshotMagic)
            throw new InvalidDataException($"{name} is not a Flotilla KV snapshot");
        var generation = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(4));
        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16));
        var state = bytes.AsSpan(SnapshotHeaderBytes);
        if (length != state.Length || Crc32.HashToUInt32(state) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)))
            throw new InvalidDataException($"{name} is damaged (length or checksum mismatch)");
        return (generation, KvStateMachine.Restore(state));
    }

    public void Dispose() => _file.Dispose();
}
