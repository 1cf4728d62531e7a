using Flotilla.Runtime;

namespace Flotilla.Raft;

/// <summary>How a leadership transfer ended: <c>Ok</c> once the target leads; otherwise <c>Message</c> says why not, in
/// one line. <c>AlreadyLeader</c>: the target led before anything was asked (a success with nothing done).</summary>
public readonly record struct TransferResult(bool Ok, string Message, bool AlreadyLeader = false)
{
    public static TransferResult Failed(string why) => new(false, why);
}

public sealed partial class RaftNode
{
    /// <summary>
    /// Hands leadership to <paramref name="target"/> and completes when it leads (within two election timeouts), or
    /// at once with the reason when this node cannot (not the leader, unknown member, a learner, stopped). The core
    /// refuses proposals while the transfer runs and gives up after one election timeout (RaftCore.Transfer.cs).
    /// </summary>
    public async Task<TransferResult> TransferLeadershipAsync(NodeId target, CancellationToken cancellationToken)
    {
        if (_stopped) return TransferResult.Failed($"{Id} is stopped");
        if (Core.Leader == target) return new TransferResult(true, $"{target} already leads term {Core.Term}", AlreadyLeader: true);
        if (Core.TransferRefusal(target) is { } why) return TransferResult.Failed(why);
        var from = Core.Term;
        var moved = await TransferLeadershipAsync(target).WaitAsync(cancellationToken);
        if (moved) return new TransferResult(true, $"{target} leads term {Core.Term}");
        return TransferResult.Failed(_stopped
            ? _storageFailure is { } failure ? $"{Id} stopped during the transfer (storage failed: {failure.Message})" : $"{Id} stopped during the transfer"
            : $"{target} did not take over within {(long)(2 * _options.ElectionTicks * _options.TickInterval).TotalMilliseconds} ms (term {from} -> {Core.Term}, leader {Core.Leader?.ToString() ?? "unknown"})");
    }
}
