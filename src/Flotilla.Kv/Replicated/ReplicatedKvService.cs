using Flotilla.Kv.StateMachine;
using Flotilla.Rsm;
using Google.Protobuf;

namespace Flotilla.Kv.Replicated;

/// <summary>
/// The versioned KV as a replicated service: the same pure <see cref="KvStateMachine"/> the single-node server runs,
/// fed committed puts in log order. No client table: a duplicate of an applied put fails the version check.
/// </summary>
public sealed class ReplicatedKvService : IReplicatedService
{
    public KvStateMachine State { get; private set; } = new();

    /// <summary>Applies a committed put; the result is the encoded <see cref="Protos.PutReply"/>.</summary>
    public ReadOnlyMemory<byte> Apply(ReadOnlyMemory<byte> command) => State.Apply(KvCommand.DecodePut(command.Span)).ToByteArray();

    public byte[] Snapshot() => State.Snapshot();

    public void Restore(ReadOnlyMemory<byte> snapshot) => State = KvStateMachine.Restore(snapshot.Span);

    /// <summary>Encoded as it is written to the snapshot file: the store is never held twice.</summary>
    public ValueTask WriteSnapshotAsync(Stream output, CancellationToken cancellationToken) => State.WriteSnapshotAsync(output, cancellationToken);

    public async ValueTask RestoreSnapshotAsync(Stream input, long length, CancellationToken cancellationToken) =>
        State = await KvStateMachine.RestoreAsync(input, length, cancellationToken);
}
