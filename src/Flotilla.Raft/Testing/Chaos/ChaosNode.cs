using Flotilla.Runtime;

namespace Flotilla.Raft.Testing.Chaos;

/// <summary>One member of the chaos cluster: a core, its crash-prone storage and the state machine it applies to
/// (a running hash of every applied entry, which is all state machine safety needs to compare).</summary>
public sealed class ChaosNode
{
    private readonly Func<NodeId, RaftConfig> _config;
    private readonly Random _random;

    public ChaosNode(NodeId id, Func<NodeId, RaftConfig> config, Random random)
    {
        Id = id;
        _config = config;
        _random = random;
        Core = new RaftCore(config(id), random, RaftPersistentState.Empty);
    }

    public NodeId Id { get; }
    public RaftCore Core { get; private set; }
    public MemoryRaftStorage Storage { get; } = new();
    public bool Up { get; private set; } = true;
    public ulong AppliedIndex { get; private set; }
    public ulong StateHash { get; private set; } = 14695981039346656037UL;

    /// <summary>Loses everything not yet durable.</summary>
    public void Crash()
    {
        Up = false;
        Storage.CrashAndRecover();
    }

    /// <summary>Comes back from what its disk holds, the stored snapshot restoring the state machine first.</summary>
    public void Restart()
    {
        var state = Storage.LoadAsync().Result;
        Core = new RaftCore(_config(Id), _random, state);
        AppliedIndex = 0;
        StateHash = 14695981039346656037UL;
        if (state.Snapshot is not null) Install(state.Snapshot);
        Up = true;
    }

    public void Install(RaftSnapshot snapshot)
    {
        AppliedIndex = snapshot.Index;
        StateHash = BitConverter.ToUInt64(snapshot.Data.Span);
    }

    public void Apply(LogEntry e)
    {
        if (e.Index != AppliedIndex + 1)
            throw new RaftScenarioException($"{Id} applied {e.Index} after {AppliedIndex}: out of order");
        AppliedIndex = e.Index;
        StateHash = SafetyChecker.Mix(StateHash, BitConverter.GetBytes(SafetyChecker.Fingerprint(e)));
    }

}
