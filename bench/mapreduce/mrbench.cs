#:project ../../src/Flotilla.MapReduce/Flotilla.MapReduce.csproj
#:package DuckDB.NET.Data.Full
#:property PublishAot=false
// Flotilla MapReduce vs DuckDB benchmark driver (see bench/mapreduce/vs-duckdb.sh and docs/benchmarks.md).
//   gen MIB DIR                          sort input: MIB MiB of 100-byte gensort -a style records in 16 MiB files
//   mr APP WORKERS REDUCE OUT FILES...   Flotilla: coordinator here, WORKERS worker processes over gRPC (RPC
//                                        shuffle, combiner on, --partitioner app for sort), output in OUT/mr-out-*
//   duckdb JOB THREADS OUT FILES...      DuckDB in this process with SET threads=THREADS; JOB is wc, indexer or
//                                        sort; output in the file OUT, in the same line format as Flotilla's
//   phases APP REDUCE FILES...           where a task's CPU goes: every step of the map tasks of FILES, then of
//                                        one reduce task, in this process, one after the other
//   (worker APP ADDR WORK OUT)           internal: one worker process; prints its peak RSS when it exits
// Each measured mode prints one line ending in "peak N MiB": the VmHWM of every process of the run, summed.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Coordinator;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;
using Flotilla.MapReduce.Worker;

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

switch (args.Length > 0 ? args[0] : "")
{
    case "gen":
        return Generate(Int(args[1]), args[2]);
    case "mr":
        return await MapReduce(args[1], Int(args[2]), Int(args[3]), args[4], args[5..]);
    case "phases":
        return Phases(args[1], Int(args[2]), args[3..]);
    case "duckdb":
        return DuckDb(args[1], Int(args[2]), args[3], args[4..]);
    case "worker":
        await MapReduceWorker.RunAsync(new WorkerOptions
            { CoordinatorAddress = args[2], App = AppLoader.Load(args[1]), WorkDirectory = args[3], OutputDirectory = args[4],
              ConnectTimeout = TimeSpan.FromSeconds(60) }); // the shared machine's load can delay the coordinator's start by seconds
        Console.WriteLine($"vmhwm-kib {PeakKib()}");
        return 0;
    default:
        Console.Error.WriteLine("usage: mrbench gen MIB DIR | mr APP WORKERS REDUCE OUT FILES... | duckdb JOB THREADS OUT FILES...");
        return 2;
}

// This process's peak resident set (VmHWM) in KiB.
static long PeakKib() =>
    long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

// gensort -a layout, deterministic (fixed seed, splitmix64): a key of 10 printable characters (' '..'~'), a space,
// the record number as 32 hex digits, a space, 54 filler characters, '\n': 100 bytes. 16 MiB per file.
static int Generate(int mib, string directory)
{
    const int recordBytes = 100;
    const int perFile = (16 << 20) / recordBytes;
    var total = (long)mib * 1048576 / recordBytes;
    Directory.CreateDirectory(directory);
    var state = 0x5EED5EED5EED5EEDUL;
    ulong Next()
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
    var record = new byte[recordBytes];
    long written = 0;
    for (var file = 0; written < total; file++)
    {
        using var output = new BufferedStream(File.Create(Path.Combine(directory, $"part-{file:D3}.txt")), 1 << 20);
        for (var i = 0; i < perFile && written < total; i++, written++)
        {
            for (var half = 0; half < 2; half++) // 5 characters per 64 random bits: 95^5 is far below 2^64, so uniform
            {
                var bits = Next();
                for (var k = 0; k < 5; k++) { record[half * 5 + k] = (byte)(' ' + bits % 95); bits /= 95; }
            }
            record[10] = (byte)' ';
            Encoding.ASCII.GetBytes(written.ToString("X32", CultureInfo.InvariantCulture), record.AsSpan(11));
            record[43] = (byte)' ';
            record.AsSpan(44, 55).Fill((byte)"0123456789ABCDEF"[(int)(written % 16)]);
            record[99] = (byte)'\n';
            output.Write(record);
        }
    }
    Console.WriteLine($"{written} records, {written * recordBytes / 1048576.0:F1} MiB in {directory}");
    return 0;
}

static async Task<int> MapReduce(string appName, int workers, int reduce, string output, string[] files)
{
    var scratch = Path.Combine(Path.GetTempPath(), $"flotilla-mrbench-{Environment.ProcessId}");
    var started = Stopwatch.GetTimestamp();
    var options = new CoordinatorOptions
    {
        InputFiles = files, ReduceCount = reduce, Combine = true, ExitGrace = TimeSpan.FromSeconds(2),
        Partitioner = appName == "sort" ? Partitioners.App : Partitioners.Hash,
        Scheduler = new SchedulerOptions { TaskTimeout = TimeSpan.FromSeconds(120) }, // a loaded machine is not a dead worker
    };
    await using var coordinator = await MapReduceCoordinator.StartAsync(options);
    var self = Environment.ProcessPath!;
    var processes = Enumerable.Range(0, workers).Select(i =>
    {
        var start = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true };
        WorkerProcessEnvironment.ApplyTo(start); // as flotilla mr run does
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "worker", appName, coordinator.Address, Path.Combine(scratch, $"w{i}"), output }) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        return (Process: process, Output: process.StandardOutput.ReadToEndAsync());
    }).ToList();
    // Phase times: when the last map finished, from the coordinator's progress.
    var mapsDoneAt = TimeSpan.Zero;
    while (!coordinator.Completion.IsCompleted)
    {
        if (mapsDoneAt == TimeSpan.Zero && coordinator.Progress() is var p && p.MapsDone == p.MapsTotal) mapsDoneAt = Stopwatch.GetElapsedTime(started);
        await Task.WhenAny(coordinator.Completion, Task.Delay(20));
    }
    var result = await coordinator.Completion;
    long workerPeaks = 0;
    var peaks = new List<string>();
    foreach (var (process, text) in processes)
    {
        await process.WaitForExitAsync();
        var line = (await text).Split('\n').FirstOrDefault(l => l.StartsWith("vmhwm-kib ", StringComparison.Ordinal));
        var kib = line is null ? 0 : long.Parse(line[10..].Trim(), CultureInfo.InvariantCulture);
        workerPeaks += kib;
        peaks.Add($"{kib / 1024}");
    }
    var elapsed = Stopwatch.GetElapsedTime(started);
    var c = result.Counters;
    var own = PeakKib();
    Console.WriteLine($"flotilla {appName}, {workers} workers: {result.State}, {elapsed.TotalSeconds:F2} s (maps done at {mapsDoneAt.TotalSeconds:F2} s), " +
        $"{c.Reduce.RecordsOut} output lines, shuffle {c.Map.BytesOut / 1048576.0:F1} MiB, retries {c.Retries}; " +
        $"peak {(own + workerPeaks) / 1024} MiB (coordinator {own / 1024} + workers {string.Join(" + ", peaks)})");
    Directory.Delete(scratch, recursive: true);
    return result.State == JobState.Succeeded ? 0 : 1;
}

// Each step of the engine's map and reduce tasks timed separately (CPU time of this process and wall time).
static int Phases(string appName, int reduce, string[] files)
{
    var app = AppLoader.Load(appName);
    var partition = Partitioners.Create(appName == "sort" ? Partitioners.App : Partitioners.Hash, app);
    var me = Process.GetCurrentProcess();
    var steps = new Dictionary<string, (TimeSpan Cpu, TimeSpan Wall)>();
    T Step<T>(string name, Func<T> work)
    {
        me.Refresh();
        var cpu = me.TotalProcessorTime;
        var wall = Stopwatch.GetTimestamp();
        var result = work();
        me.Refresh();
        var (c, w) = steps.GetValueOrDefault(name);
        steps[name] = (c + me.TotalProcessorTime - cpu, w + Stopwatch.GetElapsedTime(wall));
        return result;
    }
    var scratch = Directory.CreateTempSubdirectory("flotilla-phases-").FullName;
    var fetched = new List<byte[]>();
    foreach (var file in files)
    {
        var contents = Step("map: read input", () => File.ReadAllText(file));
        var records = Step("map: app.Map", () => app.Map(file, contents).ToList());
        var output = Step("map: MapTaskRunner.Run (map+partition+sort)", () => MapTaskRunner.Run(app, file, contents, reduce, partition, combine: true));
        var bytes = Step("map: read input as bytes", () => File.ReadAllBytes(file));
        if (app is IUtf8MapApp utf8) Step("map: app.TryMap on the bytes, emit counts only", () => { long n = 0; utf8.TryMap(file, bytes, (_, _) => n++); return n; });
        Step("map: MapTaskRunner.Run on the bytes (as the worker does)", () => MapTaskRunner.Run(app, file, bytes, reduce, partition, combine: true));
        var encoded = Step("map: encode partitions", () => output.Partitions.Select(p => { var m = new MemoryStream(); IntermediateFormat.Write(m, p); return m.ToArray(); }).ToList());
        Step("map: write files (atomic, fsync)", () =>
        {
            for (var r = 0; r < reduce; r++) AtomicFile.Write(Path.Combine(scratch, $"m-{r}"), s => s.Write(encoded[r]));
            return 0;
        });
        fetched.Add(encoded[0]);
        GC.KeepAlive(records);
    }
    var all = Step("reduce: decode", () => { var l = new List<KeyValue>(); foreach (var f in fetched) IntermediateFormat.ReadAll(new MemoryStream(f), l); return l; });
    var copy = all.ToList();
    Step("reduce: sort", () => { copy.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key)); return 0; });
    Step("reduce: ReduceTaskRunner.Run to memory", () => ReduceTaskRunner.Run(app, all.ToList(), new MemoryStream()));
    Step("reduce: ReduceTaskRunner.Run to file (atomic, fsync)", () => AtomicFile.Write(Path.Combine(scratch, "out"), s => ReduceTaskRunner.Run(app, all.ToList(), s)));
    foreach (var (name, (cpu, wall)) in steps) Console.WriteLine($"{name,-55} {cpu.TotalMilliseconds,8:F0} cpu-ms {wall.TotalMilliseconds,8:F0} ms");
    Console.WriteLine($"({files.Length} map inputs, reduce partition 0 of {reduce}: {all.Count} records; GC: {GC.CollectionCount(0)} gen0, {GC.CollectionCount(2)} gen2, allocated {GC.GetTotalAllocatedBytes() / 1048576} MiB)");
    Directory.Delete(scratch, recursive: true);
    return 0;
}

// The same three jobs in SQL. Words are maximal runs of ASCII letters, as in the wc and indexer apps (the
// corpus is pure ASCII, where char.IsLetter is exactly [A-Za-z]). Output lines have Flotilla's formats:
// "word count", "word n doc1,doc2,...", and the sorted records.
static int DuckDb(string job, int threads, string output, string[] files)
{
    var started = Stopwatch.GetTimestamp();
    using var connection = new DuckDBConnection("DataSource=:memory:");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = $"SET threads={threads}";
    command.ExecuteNonQuery();
    var list = "[" + string.Join(", ", files.Select(f => $"'{f.Replace("'", "''")}'")) + "]";
    // One column per line: a delimiter and no quote character that never occur in the input.
    const string asLines = "columns={'line': 'VARCHAR'}, header=false, auto_detect=false, delim='\t', quote='', escape=''";
    const string toLines = "(FORMAT csv, HEADER false, DELIMITER '\t', QUOTE '', ESCAPE '')";
    // Line by line: regexp_extract_all over read_text's one 16 MiB value per file takes minutes (no word spans lines).
    var words = $"SELECT filename, unnest(regexp_extract_all(line, '[A-Za-z]+')) AS word FROM read_csv({list}, {asLines}, filename=true)";
    command.CommandText = job switch
    {
        "wc" => $"COPY (SELECT word || ' ' || count(*) FROM ({words}) GROUP BY word) TO '{output}' {toLines}",
        "indexer" => $"COPY (SELECT word || ' ' || count(*) || ' ' || string_agg(filename, ',' ORDER BY filename) " +
                     $"FROM (SELECT DISTINCT filename, word FROM ({words})) GROUP BY word) TO '{output}' {toLines}",
        "sort" => $"COPY (SELECT line FROM read_csv({list}, {asLines}) ORDER BY line) TO '{output}' {toLines}",
        _ => throw new ArgumentException($"unknown job '{job}'"),
    };
    var rows = command.ExecuteNonQuery();
    var elapsed = Stopwatch.GetElapsedTime(started);
    Console.WriteLine($"duckdb {job}, {threads} threads: {elapsed.TotalSeconds:F2} s, {rows} output lines; peak {PeakKib() / 1024} MiB");
    return 0;
}
