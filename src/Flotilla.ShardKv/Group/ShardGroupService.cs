using Flotilla.Kv.Protos;
using Flotilla.Kv.StateMachine;
using Flotilla.Rsm;
using Flotilla.ShardKv.Controller;

namespace Flotilla.ShardKv.Group;

/// <summary>
/// One replica group's state machine (host it on a <see cref="ReplicatedStateMachine"/>): per shard a
/// <see cref="ShardState"/> and, while the shard is here, its versioned KV data. Configurations are taken one at a
/// time, only when every shard has settled from the previous move; a gained shard is pulled from its previous owner
/// (<see cref="ExportShard"/> there, an install command here) and the previous owner deletes it once told. Every
/// transition happens at a log position, so ownership changes are ordered with client puts on every replica.
/// Design: docs/shardkv-design.md.
/// </summary>
public sealed class ShardGroupService : IReplicatedService
{
    private readonly int _gid;
    private ShardConfig _current;
    private ShardConfig _previous;
    private readonly ShardState[] _states;
    private readonly KvStateMachine?[] _data;
    // A shard being pulled in pages: the pages applied so far (installed together when the final one applies) and the
    // key cursor they reach. Replicated state: part of snapshots, so a new leader resumes where the log got to.
    private readonly List<byte[]>?[] _pages;
    private readonly string?[] _cursors;
    // The old owner's ordinal key order of a frozen (Offering) shard, cut into pages on request. A cache, not state:
    // the data cannot change while offered; dropped when the shard is deleted or the state restored.
    private readonly string[]?[] _exportOrder;

    public ShardGroupService(int gid, int shardCount)
    {
        if (gid <= 0) throw new ArgumentOutOfRangeException(nameof(gid), gid, "group ids are positive");
        _gid = gid;
        _current = _previous = ShardConfig.Initial(shardCount);
        _states = new ShardState[shardCount];
        _data = new KvStateMachine?[shardCount];
        _pages = new List<byte[]>?[shardCount];
        _cursors = new string?[shardCount];
        _exportOrder = new string[]?[shardCount];
    }

    public int Gid => _gid;
    public int ShardCount => _states.Length;
    public ShardConfig Current => _current;
    /// <summary>The configuration before <see cref="Current"/>: whom gained shards come from, and their endpoints.</summary>
    public ShardConfig Previous => _previous;
    public ShardState StateOf(int shard) => _states[shard];

    /// <summary>While <paramref name="shard"/> is pulled in pages: the last key installed so far (null: none yet); the
    /// next page starts after it.</summary>
    public string? CursorOf(int shard) => _cursors[shard];

    /// <summary>Pages of <paramref name="shard"/> applied so far in the current pull (0 when not pulling).</summary>
    public int PagesOf(int shard) => _pages[shard]?.Count ?? 0;

    /// <summary>The most pages any one shard took to install on this replica since it started (a diagnostic for tests).</summary>
    public int LargestInstallPages { get; private set; }

    /// <summary>This replica's state was restored from a snapshot taken while a shard was part-way through its pages
    /// (a diagnostic for tests).</summary>
    public bool RestoredMidPull { get; private set; }

    /// <summary>True when no shard is being pulled, offered or waiting for its old copy's deletion: the group may
    /// take the next configuration.</summary>
    public bool Settled => _states.All(s => s is ShardState.Serving or ShardState.Absent);

    private static bool Serves(ShardState state) => state is ShardState.Serving or ShardState.Installed;

    /// <summary>Shards to pull for the current configuration, with the group that had each in the previous one.</summary>
    public IEnumerable<(int Shard, int From)> ShardsToPull() =>
        Enumerable.Range(0, ShardCount).Where(s => _states[s] == ShardState.Pulling).Select(s => (s, _previous.Shards[s]));

    /// <summary>Shards installed here in the current configuration whose previous owner must still delete its copy.</summary>
    public IEnumerable<(int Shard, int From)> ShardsToConfirm() =>
        Enumerable.Range(0, ShardCount).Where(s => _states[s] == ShardState.Installed).Select(s => (s, _previous.Shards[s]));

    /// <summary>Whether this group no longer holds a copy of the shards it handed over in configuration
    /// <paramref name="num"/> (it deleted them, or has moved past that configuration, which needs the deletion).</summary>
    public bool Released(int num, IEnumerable<int> shards) =>
        _current.Num > num || (_current.Num == num && shards.All(s => s < 0 || s >= ShardCount || _states[s] != ShardState.Offering));

    /// <summary>Those of <paramref name="shards"/> still offered in configuration <paramref name="num"/>.</summary>
    public IEnumerable<int> Offered(int num, IEnumerable<int> shards) =>
        _current.Num != num ? [] : shards.Where(s => s >= 0 && s < ShardCount && _states[s] == ShardState.Offering);

    /// <summary>A get, for <see cref="ReplicatedStateMachine.ReadAsync{T}"/>: null when this group does not serve the key.</summary>
    public GetReply? Get(string key)
    {
        var shard = ShardMap.ShardOf(key, ShardCount);
        return Serves(_states[shard]) ? _data[shard]!.Get(key) : null;
    }

    /// <summary>What the new owner pulls: the shard's data, once this group has frozen it in configuration
    /// <paramref name="num"/> (applied that configuration and lost the shard in it); null until then.</summary>
    public byte[]? ExportShard(int num, int shard) =>
        _current.Num == num && shard >= 0 && shard < ShardCount && _states[shard] == ShardState.Offering ? _data[shard]!.Snapshot() : null;

    /// <summary>One page of a frozen shard (see <see cref="ExportShard"/> for when it can be handed out): the keys after
    /// <paramref name="after"/> (null: from the first) in ordinal order, until <paramref name="pageBytes"/> bytes of
    /// keys and values (at least one key); null until the shard is frozen in configuration <paramref name="num"/>.</summary>
    public ShardPage? ExportPage(int num, int shard, string? after, int pageBytes)
    {
        if (_current.Num != num || shard < 0 || shard >= ShardCount || _states[shard] != ShardState.Offering) return null;
        var data = _data[shard]!;
        var order = _exportOrder[shard] ??= [.. data.Keys()];
        var start = 0;
        if (after is not null)
        {
            var found = Array.BinarySearch(order, after, StringComparer.Ordinal);
            start = found >= 0 ? found + 1 : ~found;
        }
        var entries = new List<(string Key, string Value, ulong Version)>();
        var bytes = 0L;
        var end = start;
        while (end < order.Length && (entries.Count == 0 || bytes < pageBytes))
        {
            var key = order[end++];
            var entry = data.Get(key);
            entries.Add((key, entry.Value, entry.Version));
            bytes += System.Text.Encoding.UTF8.GetByteCount(key) + System.Text.Encoding.UTF8.GetByteCount(entry.Value) + 8;
        }
        return new ShardPage
        {
            After = after,
            Last = entries.Count > 0 ? entries[^1].Key : after,
            Final = end >= order.Length,
            Data = KvSnapshotCodec.Encode(entries, entries.Count),
        };
    }

    /// <summary><see cref="ExportShard"/> for several shards; null unless every one of them can be handed out.</summary>
    public SortedDictionary<int, byte[]>? ExportShards(int num, IEnumerable<int> shards)
    {
        var export = new SortedDictionary<int, byte[]>();
        foreach (var shard in shards)
        {
            if (ExportShard(num, shard) is not { } data) return null;
            export[shard] = data;
        }
        return export;
    }

    /// <summary>Keys held and bytes of data (keys + values) over every shard present here: what deletion must free.</summary>
    public (int Keys, long Bytes) DataSize()
    {
        var (keys, bytes) = (0, 0L);
        foreach (var d in _data)
        {
            if (d is null) continue;
            keys += d.KeyCount;
            bytes += d.Snapshot().Length;
        }
        return (keys, bytes);
    }

    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command) => Execute(GroupCommand.Decode(command.Span)).Encode();

    public GroupReply Execute(GroupCommand command) => command.Op switch
    {
        GroupCommand.PutOp => Put(command),
        GroupCommand.ConfigOp => NextConfig(command.Config?.ToConfig() ?? throw new InvalidDataException("config command without a configuration")),
        GroupCommand.InstallOp => Install(command.Num, command.Shard, command.Data ?? throw new InvalidDataException("install without data")),
        GroupCommand.ChunkOp => Chunk(command),
        GroupCommand.DeleteOp => Delete(command.Num, command.Shard),
        GroupCommand.ConfirmOp => Confirm(command.Num, command.Shard),
        var op => throw new InvalidDataException($"unknown group command '{op}'"),
    };

    private GroupReply Put(GroupCommand put)
    {
        var key = put.Key ?? throw new InvalidDataException("put without a key");
        var shard = ShardMap.ShardOf(key, ShardCount);
        if (!Serves(_states[shard])) return new GroupReply { Status = GroupStatus.WrongGroup };
        var reply = _data[shard]!.Apply(new PutRequest { Key = key, Value = put.Value ?? "", Version = put.Version });
        return new GroupReply { KvError = reply.Error };
    }

    private GroupReply NextConfig(ShardConfig next)
    {
        if (next.Num != _current.Num + 1 || next.Shards.Count != ShardCount || !Settled) return Ignored;
        for (var s = 0; s < ShardCount; s++)
        {
            var mineBefore = _current.Shards[s] == _gid;
            var mineAfter = next.Shards[s] == _gid;
            if (mineBefore && !mineAfter)
            {
                _states[s] = ShardState.Offering;
                _exportOrder[s] = null;
            }
            else if (!mineBefore && mineAfter)
            {
                // From nobody (a fresh store or a shard never assigned): nothing to pull, start empty.
                if (_current.Shards[s] == 0)
                {
                    _states[s] = ShardState.Serving;
                    _data[s] = new KvStateMachine();
                }
                else
                {
                    _states[s] = ShardState.Pulling;
                    _pages[s] = [];
                    _cursors[s] = null;
                }
            }
        }
        _previous = _current;
        _current = next;
        return new GroupReply();
    }

    private GroupReply Install(int num, int shard, byte[] data)
    {
        // Only the pull this configuration is waiting for: a duplicate (already Serving, maybe written since) or a
        // stale one must not overwrite anything.
        if (num != _current.Num || shard < 0 || shard >= ShardCount || _states[shard] != ShardState.Pulling) return Ignored;
        _data[shard] = KvStateMachine.Restore(data);
        // Served from now on; kept as Installed until the previous owner confirms it deleted its copy.
        _states[shard] = ShardState.Installed;
        _pages[shard] = null;
        _cursors[shard] = null;
        return new GroupReply();
    }

    private GroupReply Chunk(GroupCommand chunk)
    {
        var (num, shard) = (chunk.Num, chunk.Shard);
        var data = chunk.Data ?? throw new InvalidDataException("chunk without data");
        // Only the page that continues exactly where the applied ones end: a duplicate (its cursor is behind), a page
        // from further on (reordered), or one of another configuration or an installed shard changes nothing.
        if (num != _current.Num || shard < 0 || shard >= ShardCount || _states[shard] != ShardState.Pulling) return Ignored;
        var pages = _pages[shard] ??= [];
        if (!string.Equals(chunk.After, _cursors[shard], StringComparison.Ordinal)) return Ignored;
        pages.Add(data);
        _cursors[shard] = chunk.Last;
        if (!chunk.Final) return new GroupReply(); // still Pulling: nothing of the shard is served before its last page
        var entries = pages.SelectMany(p => KvSnapshotCodec.Decode(p)).ToList();
        _data[shard] = KvStateMachine.Restore(KvSnapshotCodec.Encode(entries, entries.Count));
        LargestInstallPages = Math.Max(LargestInstallPages, pages.Count);
        _states[shard] = ShardState.Installed;
        _pages[shard] = null;
        _cursors[shard] = null;
        return new GroupReply();
    }

    private GroupReply Delete(int num, int shard)
    {
        if (num != _current.Num || shard < 0 || shard >= ShardCount || _states[shard] != ShardState.Offering) return Ignored;
        _data[shard] = null;
        _exportOrder[shard] = null;
        _states[shard] = ShardState.Absent;
        return new GroupReply();
    }

    private GroupReply Confirm(int num, int shard)
    {
        if (num != _current.Num || shard < 0 || shard >= ShardCount || _states[shard] != ShardState.Installed) return Ignored;
        _states[shard] = ShardState.Serving;
        return new GroupReply();
    }

    private static GroupReply Ignored => new() { Status = GroupStatus.Ignored };

    public byte[] Snapshot() => LogJson.Write(new SnapshotData
    {
        Gid = _gid,
        Current = ShardConfigData.From(_current),
        Previous = ShardConfigData.From(_previous),
        States = [.. _states],
        Data = _data.Select(d => d?.Snapshot()).ToArray(),
        Pages = _pages.Select(p => p?.ToArray()).ToArray(),
        Cursors = [.. _cursors],
    });

    public void Restore(ReadOnlyMemory<byte> snapshot)
    {
        var data = LogJson.Read<SnapshotData>(snapshot.Span, "group snapshot");
        if (data.Gid != _gid || data.States.Length != ShardCount || data.Data.Length != ShardCount ||
            data.Pages is { Length: var pageShards } && pageShards != ShardCount || data.Cursors is { Length: var cursorShards } && cursorShards != ShardCount)
            throw new InvalidDataException($"group snapshot for group {data.Gid} with {data.States.Length} shards does not fit group {_gid} with {ShardCount}");
        _current = data.Current.ToConfig();
        _previous = data.Previous.ToConfig();
        for (var s = 0; s < ShardCount; s++)
        {
            _states[s] = data.States[s];
            _data[s] = data.Data[s] is { } bytes ? KvStateMachine.Restore(bytes) : null;
            // Snapshots from before chunked pulls have neither: a Pulling shard then starts from its first page.
            _pages[s] = data.Pages?[s] is { } applied ? [.. applied] : data.States[s] == ShardState.Pulling ? [] : null;
            _cursors[s] = data.Cursors?[s];
            _exportOrder[s] = null;
        }
        RestoredMidPull |= _pages.Any(p => p is { Count: > 0 });
    }

    private sealed record SnapshotData
    {
        public int Gid { get; init; }
        public required ShardConfigData Current { get; init; }
        public required ShardConfigData Previous { get; init; }
        public required ShardState[] States { get; init; }
        public required byte[]?[] Data { get; init; }
        /// <summary>Per shard being pulled in pages, the pages applied so far; with <see cref="Cursors"/>.</summary>
        public byte[][]?[]? Pages { get; init; }
        public string?[]? Cursors { get; init; }
    }
}
