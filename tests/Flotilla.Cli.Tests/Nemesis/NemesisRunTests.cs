using System.Text.RegularExpressions;
using Flotilla.Cli.Infrastructure;
using Flotilla.Cli.Nemesis;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;

namespace Flotilla.Cli.Tests.Nemesis;

/// <summary>
/// The CI-bounded set of real runs: a 3-member cluster of real server processes in network namespaces, faults from a
/// fixed seed, contended traffic, the history checked. One class, so the runs (which share the flt- names) take turns.
/// </summary>
public partial class NemesisRunTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(12);

    [NemesisTheory]
    [InlineData("partition", 11)]
    [InlineData("pause,kill", 12)]
    [InlineData("loss,partition", 13)]
    [InlineData("disk,kill,pause", 14)]
    public Task ARealRunUnderFaultsIsLinearizableRecoversAndLeavesNothingBehind(string faults, int seed) => RunAndCheckAsync(faults, seed, Duration);

    /// <summary>The newer families (latency, disk-full, clock) mixed with partitions and kills, in one 20 s run whose
    /// schedule (seed 27) holds one of each: a 4x clock, the leader's disk filled up, a kill, a slowed link, a split.
    /// Besides the verdict, the members' logs must show the faults biting: the control file read, the full disk refused.</summary>
    [NemesisFact]
    public async Task ARunMixingLatencyDiskFullAndClockFaultsWithPartitionsAndKillsIsLinearizable()
    {
        var report = await RunAndCheckAsync("latency,disk-full,clock,partition,kill", 27, TimeSpan.FromSeconds(20), keepReport: true);
        try
        {
            var logs = string.Join("\n", Directory.GetFiles(Path.Combine(report, "nodes"), "server.log", SearchOption.AllDirectories).Select(File.ReadAllText));
            Assert.Contains("injected runtime faults now: clock-rate 4", logs);
            Assert.Matches(@"injected runtime faults now: delay \d \d+ \d+", logs);
            Assert.Contains("disk full", logs);
            var faultLog = File.ReadAllText(Path.Combine(report, "faults.log"));
            Assert.Matches(@"injected 5 fault\(s\): partition=1 kill=1 latency=1 disk-full=1 clock=1", faultLog);
            Assert.DoesNotContain(NemesisDisks.Source, File.ReadAllText("/proc/mounts"));
        }
        finally
        {
            try { Directory.Delete(report, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Membership changes while the clients run (seed 1's 20 s schedule holds every kind): n2 killed, wiped and
    /// replaced by n4 (learner, caught up, one joint change), n5 added then n4 removed, n1 removed then n6 added, a
    /// leadership transfer, n3 removed and n7 added while healing. Every original member is gone by the end; the
    /// clients, given the spare addresses, keep going, and the acknowledged writes read back (the verdict).</summary>
    [NemesisFact]
    public async Task MembershipChangesUnderTrafficAreLinearizableAndKeepAcknowledgedWrites()
    {
        var report = await RunAndCheckAsync("member", 1, TimeSpan.FromSeconds(20), keepReport: true);
        try
        {
            var faultLog = File.ReadAllText(Path.Combine(report, "faults.log"));
            foreach (var kind in new[] { FaultKind.ReplaceNode, FaultKind.AddRemove, FaultKind.RemoveAdd, FaultKind.TransferLeader })
                Assert.Contains($" inject {kind} ", faultLog);
            var changed = MembersChanged().Match(faultLog);
            Assert.True(changed.Success, faultLog);
            // Replace, add + remove, remove + add, and the remove-add in force at the end finished by the heal.
            Assert.Equal(7, int.Parse(changed.Groups["n"].Value));
            Assert.Contains("n2 killed and its data directory wiped", faultLog);
            Assert.Matches(@"n2 replaced by n4: voters=\(1 3 4\)", faultLog);
            Assert.Equal("n5,n6,n7", changed.Groups["members"].Value);
            // New members joined (an empty directory, --initial-state join); the first three bootstrapped the cluster.
            Assert.Contains("--- nemesis: starting n4 (join)", File.ReadAllText(Path.Combine(report, "nodes", "n4", "server.log")));
            Assert.Contains("--- nemesis: starting n1 (new)", File.ReadAllText(Path.Combine(report, "nodes", "n1", "server.log")));
            Assert.Contains("recovered: first acknowledged put", faultLog);
        }
        finally
        {
            try { Directory.Delete(report, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Membership changes mixed with kills and partitions (seed 51, 20 s): n1 killed and restarted, then wiped
    /// and replaced by n4; the leader isolated; a rolling restart that restarts n4 too (a joined member's restart is
    /// "existing": it keeps its log); n4 removed and n5 added while healing.</summary>
    [NemesisFact]
    public async Task MembershipChangesMixedWithKillsAndPartitionsAreLinearizable()
    {
        var report = await RunAndCheckAsync("member,partition,kill", 51, TimeSpan.FromSeconds(20), keepReport: true);
        try
        {
            var faultLog = File.ReadAllText(Path.Combine(report, "faults.log"));
            var changed = MembersChanged().Match(faultLog);
            Assert.True(changed.Success, faultLog);
            Assert.True(int.Parse(changed.Groups["n"].Value) >= 2, changed.Value);
            Assert.Contains(" inject ReplaceNode ", faultLog);
            Assert.Contains(" inject RollingRestart ", faultLog);
            Assert.Contains("--- nemesis: starting n4 (existing)", File.ReadAllText(Path.Combine(report, "nodes", "n4", "server.log")));
        }
        finally
        {
            try { Directory.Delete(report, recursive: true); }
            catch (IOException) { }
        }
    }

    private static async Task<string> RunAndCheckAsync(string faults, int seed, TimeSpan duration, bool keepReport = false)
    {
        // What a crashed earlier run would leave: the run must clear it first.
        await HostShell.CheckedAsync("ip", ["netns", "add", "flt-n7"]);
        var report = Path.Combine(Path.GetTempPath(), $"flotilla-nemesis-{Guid.NewGuid():N}");
        var passed = false;
        try
        {
            var (code, output, error) = await CliHarness.RunAsync("nemesis", "--duration", $"{duration.TotalSeconds}s", "--faults", faults, "--seed", seed.ToString(), "--report", report);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var verdict = lines.LastOrDefault() ?? "";
            Assert.True(code == ExitCodes.Ok, $"exit {code}: {verdict}\n{error}\n{output}");
            var match = Closing().Match(verdict);
            Assert.True(match.Success, verdict);
            var ops = int.Parse(match.Groups["ops"].Value);
            Assert.True(ops > 500, $"only {ops} operations: {verdict}");
            // Every planned fault was injected (the schedule is the seed's, so its length is known beforehand).
            var planned = NemesisSchedule.Draw(seed, PlannedFault.ParseFamilies(faults), 3, duration);
            Assert.True(planned.Count >= 2, $"seed {seed} plans only {planned.Count} fault(s) in {duration}");
            Assert.Equal(planned.Count, int.Parse(match.Groups["faults"].Value));
            Assert.True(double.Parse(match.Groups["recovery"].Value, System.Globalization.CultureInfo.InvariantCulture) < 30, verdict);
            // Every fault family asked for was injected.
            foreach (var family in PlannedFault.ParseFamilies(faults))
                Assert.Contains(lines, l => l.Contains(" inject ") && Enum.GetValues<FaultKind>().Any(k => PlannedFault.FamilyOf(k) == family && l.Contains($" inject {k} ")));

            // The lock clients took turns (their holds never overlapped, or the verdict above would say so), and the
            // lock's own requests are in the checked history.
            var holds = lines.Select(l => LockHoldsLine().Match(l)).First(m => m.Success);
            Assert.True(int.Parse(holds.Groups["n"].Value) >= 1, string.Join("\n", lines));

            // The history on disk is what was checked: same count, and the checker agrees on its own.
            var history = VersionedKv.FromJson(File.ReadAllText(Path.Combine(report, "history.json")));
            Assert.Equal(ops, history.Count);
            Assert.Equal(CheckOutcome.Ok, VersionedKv.Check(history, CheckOptions.WithTimeout(TimeSpan.FromSeconds(60))).Outcome);
            Assert.Contains(history, o => o.Input.Op == KvOp.Put && o.Output?.Error == KvError.Ok);
            Assert.Contains(history, o => o.Input.Op == KvOp.Put && o.Input.Key == NemesisWorkload.LockKey && o.Output?.Error == KvError.Ok);
            Assert.True(File.Exists(Path.Combine(report, "history.html")));
            Assert.True(new FileInfo(Path.Combine(report, "nodes", "n1", "server.log")).Length > 0);

            // Nothing left: no namespaces, bridge or member processes.
            var namespaces = await HostShell.RunAsync("ip", ["netns", "list"]);
            Assert.DoesNotContain("flt-", namespaces.Output);
            var links = await HostShell.RunAsync("ip", ["-o", "link", "show"]);
            Assert.DoesNotContain("flt-", links.Output);
            Assert.DoesNotContain(System.Diagnostics.Process.GetProcesses(), p => SafeCommandLine(p).Contains(report));
            passed = true;
            return report;
        }
        finally
        {
            await NetnsTopology.RemoveLeftoversAsync();
            if (!keepReport || !passed)
            {
                try { Directory.Delete(report, recursive: true); }
                catch (IOException) { }
            }
        }
    }

    /// <summary>The sharded store under the nemesis: 2 replica groups over 16 shards in 3 processes, shard moves
    /// through the controller while partitions hit, traffic through the routing client; the same verdict as the
    /// replicated runs (checked history, acknowledged writes read back, recovery).</summary>
    [NemesisFact]
    public async Task AShardedRunWithShardMovesUnderPartitionsIsLinearizable()
    {
        const string faults = "move,partition";
        // The first seed whose 12 s schedule holds a move and a partition (the schedule is the seed's alone).
        var families = PlannedFault.ParseFamilies(faults);
        var seed = Enumerable.Range(1, 200).First(s =>
        {
            var planned = NemesisSchedule.Draw(s, families, 3, Duration);
            return planned.Count >= 3 && families.All(f => planned.Any(p => PlannedFault.FamilyOf(p.Kind) == f)) && planned[0].Kind == FaultKind.MoveShards;
        });
        var report = Path.Combine(Path.GetTempPath(), $"flotilla-nemesis-{Guid.NewGuid():N}");
        try
        {
            var (code, output, error) = await CliHarness.RunAsync("nemesis", "--duration", $"{Duration.TotalSeconds}s", "--groups", "2", "--faults", faults,
                "--seed", seed.ToString(), "--report", report);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var verdict = lines.LastOrDefault() ?? "";
            Assert.True(code == ExitCodes.Ok, $"seed {seed}: exit {code}: {verdict}\n{error}\n{output}");
            var match = Closing().Match(verdict);
            Assert.True(match.Success, verdict);
            Assert.True(int.Parse(match.Groups["ops"].Value) > 300, verdict);
            Assert.Contains(lines, l => l.Contains("(sharded store: 2 groups over 16 shards)"));
            // At least one shard really changed groups through the controller.
            var moved = lines.Select(l => MovesAccepted().Match(l)).First(m => m.Success);
            Assert.True(int.Parse(moved.Groups["n"].Value) >= 1, string.Join("\n", lines));
            Assert.Contains(lines, l => l.Contains(" inject MoveShards "));
            var history = VersionedKv.FromJson(File.ReadAllText(Path.Combine(report, "history.json")));
            Assert.Equal(CheckOutcome.Ok, VersionedKv.Check(history, CheckOptions.WithTimeout(TimeSpan.FromSeconds(60))).Outcome);
        }
        finally
        {
            await NetnsTopology.RemoveLeftoversAsync();
            try { Directory.Delete(report, recursive: true); }
            catch (IOException) { }
        }
    }

    [GeneratedRegex(@"lock: (?<n>\d+) holds by 2 clients, none overlapping$")]
    private static partial Regex LockHoldsLine();

    [GeneratedRegex(@"(?<n>\d+) membership change\(s\) completed, \d+ leadership transfer\(s\); members now (?<members>[n0-9,]+)")]
    private static partial Regex MembersChanged();

    [GeneratedRegex(@"(?<n>\d+) shard move\(s\) accepted by the controller")]
    private static partial Regex MovesAccepted();

    private static string SafeCommandLine(System.Diagnostics.Process p)
    {
        try { return File.ReadAllText($"/proc/{p.Id}/cmdline"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    [GeneratedRegex(@"^nemesis: linearizable ops=(?<ops>\d+) maybe=(?<maybe>\d+) faults=(?<faults>\d+) recovery=(?<recovery>[0-9.]+)s$")]
    private static partial Regex Closing();
}

public class NemesisCommandLineTests
{
    [Theory]
    [InlineData("--faults", "partition,flood")]
    [InlineData("--nodes", "4")]
    [InlineData("--duration", "soon")]
    [InlineData("--duration", "2s")]
    [InlineData("--clients", "0")]
    [InlineData("--groups", "9")]
    [InlineData("--lock-clients", "9")]
    [InlineData("--faults", "move")]
    [InlineData("--faults", "members")]
    public async Task BadFlagsAreOneLineUsageErrors(string flag, string value)
    {
        var (code, _, error) = await CliHarness.RunAsync("nemesis", "--report", Path.GetTempPath(), flag, value);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("flotilla: error: ", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task MemberFaultsWithTheShardedStoreAreAOneLineUsageError()
    {
        var (code, _, error) = await CliHarness.RunAsync("nemesis", "--report", Path.GetTempPath(), "--faults", "member,partition", "--groups", "2");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("flotilla: error: --faults member is for the replicated KV (--groups 0), not the sharded store", error.Trim());
    }
}
