namespace Flotilla.Rsm;

/// <summary>
/// A deterministic service replicated by a <see cref="ReplicatedStateMachine"/>. Every replica calls
/// <see cref="Apply"/> with the same commands in the same (log) order, so every replica must compute the same state
/// and the same results from them: no clock, no randomness, no I/O, no dependence on which node it runs on.
/// <para>All members are called on the node's scheduler, one at a time.</para>
/// </summary>
public interface IReplicatedService
{
    /// <summary>Applies one committed command and returns its result (handed to the submitter on the leader).</summary>
    ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command);

    /// <summary>The whole state as bytes, covering every command applied so far.</summary>
    byte[] Snapshot();

    /// <summary>Replaces the whole state with a <see cref="Snapshot"/> (taken here or on another replica).</summary>
    void Restore(ReadOnlyMemory<byte> snapshot);

    /// <summary>Writes the whole state to <paramref name="output"/> (what the replicated state machine calls; it goes
    /// straight to the snapshot file). The default writes <see cref="Snapshot"/>'s bytes; a service whose state is
    /// large overrides it to serialize as it goes, so the state is never held twice. Nothing is applied meanwhile.</summary>
    ValueTask WriteSnapshotAsync(Stream output, CancellationToken cancellationToken) => output.WriteAsync(Snapshot(), cancellationToken);

    /// <summary>Replaces the whole state with the <paramref name="length"/> bytes a <see cref="WriteSnapshotAsync"/>
    /// (here or on another replica) wrote, read from <paramref name="input"/>. The default reads them into one array
    /// for <see cref="Restore"/>; a service whose state is large overrides it to rebuild as it reads.</summary>
    async ValueTask RestoreSnapshotAsync(Stream input, long length, CancellationToken cancellationToken)
    {
        var data = new byte[length];
        await input.ReadExactlyAsync(data, cancellationToken);
        Restore(data);
    }
}
