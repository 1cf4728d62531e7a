using Flotilla.Bench.Raft;

// Modes: (default) the driver: fsync baseline, Flotilla (3 child processes), DotNext, then the table;
// "flotilla-node" / "dotnext-node": one node process (started by the driver). Options: see BenchSettings.
if (args.Length > 0 && args[0] == "flotilla-node") return await FlotillaNode.RunAsync(new Args(args[1..]));
if (args.Length > 0 && args[0] == "dotnext-node") return await DotNextNode.RunAsync(new Args(args[1..]));

var settings = BenchSettings.Parse(new Args(args));
var work = Directory.CreateTempSubdirectory("flotilla-bench-raft.").FullName;
try
{
    var rows = new List<(string System, LatencyStats Stats)>();
    foreach (var r in FsyncProbe.Measure(Path.Combine(work, "probe"), settings.FsyncSamples)) rows.Add(("disk", r));
    rows.Add(("network", await TcpRoundTripProbe.MeasureAsync(settings.RoundTrips)));
    if (settings.Flotilla)
    {
        foreach (var r in await FlotillaDriver.RunAsync(settings, work)) rows.Add(("flotilla", r));
    }
    if (settings.DotNext)
    {
        try
        {
            foreach (var r in await DotNextDriver.RunAsync(settings, work)) rows.Add(("dotnext", r));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"== dotnext: FAILED: {e.GetType().Name}: {e.Message}");
        }
    }
    // The disk is measured again at the end: on a shared VM its fsync latency drifts during a run.
    foreach (var r in FsyncProbe.Measure(Path.Combine(work, "probe"), settings.FsyncSamples)) rows.Add(("disk-end", r));
    ResultTable.Print(settings, rows);
    return 0;
}
finally
{
    if (Environment.GetEnvironmentVariable("BENCH_KEEP") == "1") Console.Error.WriteLine($"== kept {work}");
    else try { Directory.Delete(work, recursive: true); } catch (IOException) { }
}
