using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Raft.Tests.Simulation;

/// <summary><see cref="RaftNode.SnapshotAsync"/> on the WAL storage of a simulated node: the service's stream goes to
/// the snapshot file, the log is compacted once the pump commits it, and a second snapshot asked for before that
/// commit is declined (storage writes one at a time) rather than failing the caller.</summary>
public class RaftNodeStreamedSnapshotTests
{
    [Fact]
    public void AStreamedSnapshotIsCommittedAndASecondOneBeforeTheCommitIsDeclined()
    {
        var sim = new Simulator(5);
        RaftNode? raft = null;
        var applied = 0UL;
        sim.AddNode(new NodeId(1), node => _ = Boot(node));
        async Task Boot(SimNode node)
        {
            raft = await RaftNode.CreateAsync(node.Context, new RaftNodeOptions { GroupId = "solo", Voters = [new NodeId(1)] });
            node.Service = raft;
            await raft.StartAsync();
            while (await raft.Applies.WaitToReadAsync())
                while (raft.Applies.TryRead(out var msg)) applied = msg.Index;
        }
        Assert.True(sim.RunUntil(() => raft is { IsLeader: true }, TimeSpan.FromSeconds(5)));
        sim.RunTest(async () =>
        {
            await sim.Node(1).InvokeAsync(() => Enumerable.Range(0, 20).Select(i => raft!.Propose(new[] { (byte)i })).ToList());
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            var index = applied;
            Assert.True(index >= 20);
            var state = new byte[300_000];
            new Random(5).NextBytes(state);
            var (first, second) = await sim.Node(1).InvokeAsync(async () =>
            {
                // Written in small pieces, as a service serializing its state would.
                var written = await raft!.SnapshotAsync(index, async (stream, ct) =>
                {
                    for (var at = 0; at < state.Length; at += 1000) await stream.WriteAsync(state.AsMemory(at, 1000), ct);
                });
                // The pump has not committed the first one yet: a second is declined, not an error.
                var again = await raft.SnapshotAsync(index, (stream, ct) => stream.WriteAsync(state, ct));
                return (written, again);
            });
            Assert.Equal(state.Length, first);
            Assert.Null(second);
            await sim.Delay(TimeSpan.FromMilliseconds(100));
            Assert.Equal(index, raft!.Core.SnapshotIndex);
            Assert.Equal(state.Length, raft.Core.LatestSnapshotBytes);
            var stored = await RaftSnapshotFile.ReadAsync(sim.Node(1).Context.Storage, RaftSnapshotFile.NameIn(new RaftNodeOptions { GroupId = "solo", Voters = [new NodeId(1)] }.StorageDirectory));
            Assert.NotNull(stored);
            Assert.Equal(index, stored.Value.Snapshot.Index);
            Assert.Equal(state, stored.Value.Snapshot.Data.ToArray());

            // Asked again and again right after another one: each call is declined (while one is written or waits for
            // its commit) or taken, never an error, and exactly one newer snapshot ends up in place.
            await sim.Node(1).InvokeAsync(() => Enumerable.Range(0, 20).Select(i => raft.Propose(new[] { (byte)i })).ToList());
            await sim.Delay(TimeSpan.FromMilliseconds(200));
            var newer = applied;
            var older = await sim.Node(1).InvokeAsync(() => raft.SnapshotAsync(newer - 10, (stream, ct) => stream.WriteAsync(state, ct)));
            Assert.Equal(state.Length, older);
            var taken = 0;
            for (var attempt = 0; attempt < 200 && raft.Core.SnapshotIndex < newer; attempt++)
            {
                var r = await sim.Node(1).InvokeAsync(() => raft.SnapshotAsync(newer, (stream, ct) => stream.WriteAsync(state.AsMemory(0, 1000), ct)));
                if (r is not null) taken++;
                await sim.Delay(TimeSpan.FromMicroseconds(50)); // the pump goes on meanwhile
            }
            await sim.Delay(TimeSpan.FromMilliseconds(100));
            Assert.Equal(1, taken);
            Assert.Equal(newer, raft.Core.SnapshotIndex);
            Assert.Equal(1000, raft.Core.LatestSnapshotBytes);
        }, TimeSpan.FromSeconds(10));
    }
}
