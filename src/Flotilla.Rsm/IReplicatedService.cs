namespace Flotilla.Rsm;

/// <summary>
/// A deterministic service replicated by a <see cref="ReplicatedStateMachine"/>. Every replica calls
/// <see cref="Apply"/> with the same commands in the same (log) order, so every replica must compute the same state
/// and the same results from them: no clock, no randomness, no I/O, no dependence on which node it runs on.
/// <para>All three members are called on the node's scheduler, one at a time.</para>
/// </summary>
public interface IReplicatedService
{
    /// <summary>Applies one committed command and returns its result (handed to the submitter on the leader).</summary>
    ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command);

    /// <summary>The whole state as bytes, covering every command applied so far.</summary>
    byte[] Snapshot();

    /// <summary>Replaces the whole state with a <see cref="Snapshot"/> (taken here or on another replica).</summary>
    void Restore(ReadOnlyMemory<byte> snapshot);
}
