using Flotilla.Simulation.Storage;
using Flotilla.Wal.Tests.Support;

namespace Flotilla.Wal.Tests;

/// <summary>
/// Power-loss scenarios on the simulated disk. Random operations (appends with overwrites, state, snapshot marks,
/// syncs, compactions) run against the WAL and a reference model; the power fails at a random I/O operation,
/// possibly in the middle of a batch, a rotation, a compaction or a recovery. After every crash, recovery must not
/// throw, and what it returns must be the reference state after some prefix of the operations that includes
/// every operation acknowledged by a completed SyncAsync.
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public Task SyncedOperationsSurvivePowerLossAtAnyIoOperation() =>
        Seeds.RunAsync(300, nameof(SyncedOperationsSurvivePowerLossAtAnyIoOperation), RunScenarioAsync);

    [Fact]
    public Task SyncedEntriesSurviveCrashesBetweenOperations() =>
        Seeds.RunAsync(200, nameof(SyncedEntriesSurviveCrashesBetweenOperations), async seed =>
        {
            // Crash only between calls: what was synced must all be there, unsynced appends may be lost.
            var random = new Random(seed);
            var fs = new SimFileSystem();
            var options = new WalOptions { SegmentBytes = 4096, Preallocate = random.Next(2) == 0 };
            var durable = new ReferenceLog();
            for (var cycle = 0; cycle < 4; cycle++)
            {
                var (log, recovery) = await WriteAheadLog.OpenAsync(fs, options);
                WalAssert.Recovered(durable, recovery);
                for (var k = random.Next(1, 30); k > 0; k--)
                {
                    var data = WalAssert.Bytes(random.Next(), random.Next(0, 200));
                    log.Append(new WalEntry(durable.NextIndex, (ulong)cycle + 1, data));
                    durable.Append(durable.NextIndex, (ulong)cycle + 1, data);
                }
                await log.SyncAsync();
                for (var k = random.Next(0, 5); k > 0; k--) log.Append(new WalEntry(log.LastIndex + 1, 99, new byte[] { 1, 2, 3 }));
                fs.Crash(random);
            }
        });

    private static async Task RunScenarioAsync(int seed)
    {
        var random = new Random(seed);
        var sim = new SimFileSystem();
        var options = new WalOptions { SegmentBytes = 4096, Preallocate = random.Next(2) == 0 };
        // States the disk may legally be in: history[durable..] (each the reference after one more operation).
        var history = new List<ReferenceLog> { new() };
        var durable = 0;

        for (var cycle = 0; cycle < 6; cycle++)
        {
            var fs = new CrashingFileSystem(sim, random) { CrashAt = random.Next(1, 120) };
            try
            {
                var (log, recovery) = await WriteAheadLog.OpenAsync(fs, options);
                AssertLegal(history, durable, recovery, cycle);
                var reference = ReferenceLog.From(recovery);
                history = [reference.Clone()];
                durable = 0;
                for (var op = 0; op < 60; op++)
                {
                    var synced = await StepAsync(log, reference, random);
                    history.Add(reference.Clone());
                    if (synced) durable = history.Count - 1;
                }
                sim.Crash(random);
            }
            catch (Exception e) when (fs.Crashed && e is PowerLossException or IOException { InnerException: PowerLossException })
            {
                // The disk crashed inside an operation (or in background work, which poisoned the log); the next
                // cycle recovers.
            }
        }

        var (final, last) = await WriteAheadLog.OpenAsync(sim, options);
        AssertLegal(history, durable, last, cycle: 6);
        await final.DisposeAsync();
    }

    /// <summary>One random operation on both the WAL and the reference. True if it was a completed sync: every
    /// operation so far is then durable.</summary>
    private static async Task<bool> StepAsync(WriteAheadLog log, ReferenceLog reference, Random random)
    {
        switch (random.Next(20))
        {
            case < 12:
            {
                // Mostly the next index; sometimes overwrite a short suffix (a new leader's conflicting entries).
                var next = reference.NextIndex;
                var low = Math.Max(reference.SnapshotIndex + 1, next > 3 ? next - 3 : 1);
                var index = random.Next(4) == 0 ? (ulong)random.NextInt64((long)low, (long)next + 1) : next;
                var term = (ulong)random.Next(1, 4);
                var data = WalAssert.Bytes(random.Next(), random.Next(0, 300));
                log.Append(new WalEntry(index, term, data));
                reference.Append(index, term, data);
                return false;
            }
            case 12:
            {
                var state = WalAssert.Bytes(random.Next(), random.Next(0, 40));
                log.SaveState(state);
                reference.SaveState(state);
                return false;
            }
            case 13:
            {
                if (reference.Entries.Count == 0) return false;
                var pick = reference.Entries[random.Next(reference.Entries.Count)];
                var term = random.Next(5) == 0 ? pick.Term + 1 : pick.Term;
                log.MarkSnapshot(pick.Index, term);
                reference.MarkSnapshot(pick.Index, term);
                return false;
            }
            case 14:
                await log.CompactAsync();
                return true;
            default:
                await log.SyncAsync();
                return true;
        }
    }

    private static void AssertLegal(List<ReferenceLog> history, int durable, WalRecovery recovery, int cycle)
    {
        var got = ReferenceLog.From(recovery).Describe();
        for (var i = history.Count - 1; i >= durable; i--)
        {
            if (history[i].Describe() == got) return;
        }
        Assert.Fail($"cycle {cycle}: recovered state matches no state at or after the last sync (op {durable} of {history.Count - 1}).\n" +
            $"recovered: {got}\ndurable:   {history[durable].Describe()}\nlatest:    {history[^1].Describe()}");
    }
}
