#:project ../../src/Flotilla.MapReduce/Flotilla.MapReduce.csproj
#:property PublishAot=false
// Word-count benchmark driver (see bench/mapreduce/run.sh and docs/benchmarks.md).
//   dotnet run -c Release wcbench.cs -- loop FILES...                 single-threaded in-memory word count
//   dotnet run -c Release wcbench.cs -- mr WORKERS REDUCE FILES...    the MapReduce engine: coordinator here,
//                                                                      WORKERS separate worker processes over gRPC
//   (worker ADDR)                                                      internal: one worker process
// It drives the same library code as `flotilla mr run` (coordinator, worker processes, RPC shuffle, combiner),
// built in Release without depending on the rest of the CLI.
using System.Diagnostics;
using System.Globalization;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Coordinator;
using Flotilla.MapReduce.Scheduling;
using Flotilla.MapReduce.Worker;

var mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "loop":
        return Loop(args[1..]);
    case "mr":
        return await MapReduce(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture), args[3..]);
    case "map":
        return MapOnly(args[1]);
    case "worker":
        await MapReduceWorker.RunAsync(new WorkerOptions { CoordinatorAddress = args[1], App = new WordCountApp(), WorkDirectory = args[2], OutputDirectory = args[3] });
        return 0;
    default:
        Console.Error.WriteLine("usage: wcbench loop FILES... | wcbench mr WORKERS REDUCE FILES...");
        return 2;
}

// Where a map task's CPU goes: tokenizing alone, then the engine's whole map (partition, combine, sort).
static int MapOnly(string file)
{
    var text = File.ReadAllText(file);
    var app = new WordCountApp();
    for (var round = 0; round < 2; round++)
    {
        var me = Process.GetCurrentProcess();
        var t0 = me.TotalProcessorTime;
        long n = 0;
        foreach (var _ in app.Map(file, text)) n++;
        me.Refresh();
        var t1 = me.TotalProcessorTime;
        var output = Flotilla.MapReduce.Core.MapTaskRunner.Run(app, file, text, 10,
            Flotilla.MapReduce.Core.Partitioners.Create("fnv", app), combine: true);
        me.Refresh();
        var t2 = me.TotalProcessorTime;
        Console.WriteLine($"{n} words: tokenize {(t1 - t0).TotalMilliseconds:F0} cpu-ms, map task {(t2 - t1).TotalMilliseconds:F0} cpu-ms ({output.RecordsOut} records out)");
    }
    return 0;
}

static long TotalBytes(string[] files) => files.Sum(f => new FileInfo(f).Length);

static void Report(string what, long bytes, TimeSpan elapsed, string extra) =>
    Console.WriteLine($"{what}: {bytes / 1048576.0:F1} MiB in {elapsed.TotalSeconds:F2} s = {bytes / 1048576.0 / elapsed.TotalSeconds:F1} MiB/s {extra}");

// The baseline: one thread, everything in memory, the same tokenization as the wc app (maximal runs of
// letters), no per-word allocation for words already seen.
static int Loop(string[] files)
{
    var started = Stopwatch.GetTimestamp();
    var counts = new Dictionary<string, long>(StringComparer.Ordinal);
    var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
    foreach (var file in files)
    {
        var text = File.ReadAllText(file);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var letter = i < text.Length && char.IsLetter(text[i]);
            if (letter && start < 0) start = i;
            else if (!letter && start >= 0)
            {
                var word = text.AsSpan(start, i - start);
                lookup[word] = lookup.TryGetValue(word, out var n) ? n + 1 : 1;
                start = -1;
            }
        }
    }
    var elapsed = Stopwatch.GetElapsedTime(started);
    Report("single-threaded loop", TotalBytes(files), elapsed, $"({counts.Count} distinct words)");
    return 0;
}

static async Task<int> MapReduce(int workers, int reduce, string[] files)
{
    var scratch = Path.Combine(Path.GetTempPath(), $"flotilla-wcbench-{Environment.ProcessId}");
    Directory.CreateDirectory(scratch);
    var started = Stopwatch.GetTimestamp();
    var options = new CoordinatorOptions { InputFiles = files, ReduceCount = reduce, Combine = true, ExitGrace = TimeSpan.FromSeconds(2) };
    await using var coordinator = await MapReduceCoordinator.StartAsync(options);
    var self = Environment.ProcessPath!;
    var processes = Enumerable.Range(0, workers).Select(i =>
    {
        var start = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "worker", coordinator.Address, Path.Combine(scratch, $"w{i}"), Path.Combine(scratch, "out") }) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }).ToList();
    var result = await coordinator.Completion;
    foreach (var p in processes) await p.WaitForExitAsync();
    var elapsed = Stopwatch.GetElapsedTime(started);
    var c = result.Counters;
    Report($"mapreduce {workers} worker(s)", TotalBytes(files), elapsed,
        $"({result.State}; {c.Reduce.RecordsOut} distinct words; shuffle {c.Map.BytesOut / 1048576.0:F1} MiB; retries {c.Retries})");
    Directory.Delete(scratch, recursive: true);
    return result.State == JobState.Succeeded ? 0 : 1;
}
