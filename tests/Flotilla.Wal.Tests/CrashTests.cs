using Flotilla.Runtime.Storage;
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

    /// <summary>
    /// Exhaustive over crash points: a workload that rotates several times (segment creation, spare renames, manifest
    /// replacement: temp file, fsync, rename, directory fsync) loses power at its 1st, 2nd, ... I/O operation, then
    /// possibly again during the recovery that follows. Every recovery must succeed with a legal state, and the
    /// recovered log must accept appends that survive a clean reopen.
    /// </summary>
    [Fact]
    public async Task PowerLossAtEveryIoOperationOfRotationsAndManifestUpdatesRecovers()
    {
        foreach (var preallocate in new[] { true, false })
        {
            var options = new WalOptions { SegmentBytes = 4096, Preallocate = preallocate };
            var total = await CountOperationsAsync(options);
            Assert.True(total > 50, $"only {total} operations");
            for (var crashAt = 1; crashAt <= total; crashAt++)
            {
                foreach (var seed in new[] { crashAt })
                {
                    try
                    {
                        await CrashAtAsync(options, crashAt, seed);
                    }
                    catch (Exception e)
                    {
                        throw new Exception($"preallocate={preallocate}, crash at operation {crashAt}, seed {seed}", e);
                    }
                }
            }
        }
    }

    private static async Task<long> CountOperationsAsync(WalOptions options)
    {
        var fs = new CrashingFileSystem(new SimFileSystem(), new Random(1));
        await RotatingWorkloadAsync(fs, options, [new()], _ => { });
        return fs.Operations;
    }

    /// <summary>Entries of 150 bytes, synced in threes, with a state and a compaction now and then: about four
    /// rotations in 4 KiB segments. <paramref name="onSync"/> learns how many history states are durable.</summary>
    private static async Task RotatingWorkloadAsync(IFileSystem fs, WalOptions options, List<ReferenceLog> history, Action<int> onSync)
    {
        var (log, _) = await WriteAheadLog.OpenAsync(fs, options);
        var reference = history[^1].Clone();
        for (ulong i = 1; i <= 90; i++)
        {
            var data = WalAssert.Bytes((int)i, 150);
            log.Append(new WalEntry(i, 1, data));
            reference.Append(i, 1, data);
            history.Add(reference.Clone());
            if (i % 40 == 0)
            {
                log.SaveState([(byte)i]);
                reference.SaveState([(byte)i]);
                history.Add(reference.Clone());
                log.MarkSnapshot(i - 20, 1);
                reference.MarkSnapshot(i - 20, 1);
                history.Add(reference.Clone());
                await log.CompactAsync();
                onSync(history.Count - 1);
            }
            if (i % 3 != 0) continue;
            await log.SyncAsync();
            onSync(history.Count - 1);
        }
        await log.DisposeAsync();
        onSync(history.Count - 1);
    }

    private static async Task CrashAtAsync(WalOptions options, int crashAt, int seed)
    {
        var random = new Random(seed);
        var sim = new SimFileSystem();
        var history = new List<ReferenceLog> { new() };
        var durable = 0;
        var fs = new CrashingFileSystem(sim, random) { CrashAt = crashAt };
        try
        {
            await RotatingWorkloadAsync(fs, options, history, d => durable = d);
        }
        catch (Exception e) when (fs.Crashed && e is PowerLossException or IOException { InnerException: PowerLossException })
        {
        }
        if (!fs.Crashed) return;
        // Sometimes the power fails again while recovering.
        var again = new CrashingFileSystem(sim, random) { CrashAt = random.Next(2) == 0 ? random.Next(1, 12) : 0 };
        try
        {
            var (log, recovery) = await WriteAheadLog.OpenAsync(again, options);
            AssertLegal(history, durable, recovery, cycle: 0);
            await log.DisposeAsync();
        }
        catch (Exception e) when (again.Crashed && e is PowerLossException or IOException { InnerException: PowerLossException })
        {
        }
        var (final, last) = await WriteAheadLog.OpenAsync(sim, options);
        AssertLegal(history, durable, last, cycle: 1);
        var next = last.Entries.Count > 0 ? last.Entries[^1].Index + 1 : last.SnapshotIndex + 1;
        final.Append(new WalEntry(next, 9, new byte[] { 0xEE }));
        await final.DisposeAsync();
        var (reopened, after) = await WriteAheadLog.OpenAsync(sim, options);
        await reopened.DisposeAsync();
        Assert.Equal((next, 9UL), (after.Entries[^1].Index, after.Entries[^1].Term));
    }

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
