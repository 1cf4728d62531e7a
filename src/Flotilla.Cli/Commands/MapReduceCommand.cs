using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Flotilla.Cli.Infrastructure;
using Flotilla.MapReduce;
using Flotilla.MapReduce.Apps;
using Flotilla.MapReduce.Coordinator;
using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;
using Flotilla.MapReduce.Worker;
using Spectre.Console;

namespace Flotilla.Cli.Commands;

/// <summary><c>flotilla mr</c>: run MapReduce coordinators, workers, whole local jobs, and the sequential reference.</summary>
public static class MapReduceCommand
{
    private static readonly Option<string> App = new("--app")
    {
        Description = $"The app: a built-in name ({string.Join(", ", BuiltInApps.Names)}) or the path of an assembly (PATH.dll or PATH.dll:Type.Name).",
        Required = true,
    };
    private static readonly Option<string[]> AppArgs = new("--app-arg")
    {
        Description = "KEY=VALUE passed to the app (repeatable), e.g. --app-arg pattern=whale for grep.",
        AllowMultipleArgumentsPerToken = false,
    };
    private static readonly Option<int> Reduce = new("--reduce") { Description = "Number of reduce tasks (output files).", DefaultValueFactory = _ => 10 };
    private static readonly Option<int?> PagePort = new("--page-port") { Description = "Serve the job page at http://127.0.0.1:PORT/ (HTTP/1.1; 0 = any free port)." };
    private static readonly Option<int> Port = new("--port") { Description = "Loopback port of the coordinator (0 = any free port).", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> TaskTimeoutMs = new("--task-timeout-ms") { Description = "Give a task to another worker after this long.", DefaultValueFactory = _ => 10_000 };
    private static readonly Option<bool> BackupTasks = new("--backup-tasks") { Description = "Run backup copies of straggling tasks at the end of each phase." };
    private static readonly Option<int> BackupAfterMs = new("--backup-after-ms") { Description = "A task is a straggler after running this long.", DefaultValueFactory = _ => 2_000 };
    // On by default, as in Hadoop's word count: an app that declares a combiner wants it (it shrinks the shuffle ~7x for wc).
    private static readonly Option<bool> Combiner = new("--combiner") { Description = "Run the app's combiner on the map side (the default; kept for scripts)." };
    private static readonly Option<bool> NoCombiner = new("--no-combiner") { Description = "Do not run the app's combiner, even if it has one." };
    private static readonly Option<string> Partitioner = new("--partitioner")
    {
        Description = $"How keys are assigned to reduce tasks: {string.Join(", ", Partitioners.Names)}.",
        DefaultValueFactory = _ => Partitioners.Hash,
    };
    private static readonly Option<string> ShuffleMode = new("--shuffle")
    {
        Description = "rpc: reducers fetch map output from map workers (no shared file system); shared: through a shared directory.",
        DefaultValueFactory = _ => "rpc",
    };
    private static readonly Argument<string[]> Files = new("files") { Description = "Input files: one map task each.", Arity = ArgumentArity.OneOrMore };

    public static Command Create()
    {
        var mr = new Command("mr", "MapReduce: coordinator, workers, one-command local runs, and the sequential reference.");
        mr.Subcommands.Add(CoordinatorCommand());
        mr.Subcommands.Add(WorkerCommand());
        mr.Subcommands.Add(RunCommand());
        mr.Subcommands.Add(SequentialCommand());
        return mr;
    }

    private static Command CoordinatorCommand()
    {
        var command = new Command("coordinator", "Coordinate one job: hand tasks to workers until every reduce task is done, then exit.");
        foreach (var option in JobOptions()) command.Options.Add(option);
        command.Options.Add(Port);
        command.Options.Add(PagePort);
        command.Arguments.Add(Files);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = CoordinatorOptionsFrom(parse, parse.GetValue(Port)) with { PagePort = CheckedPagePort(parse) };
            var coordinator = await Translate(() => MapReduceCoordinator.StartAsync(options, cancellationToken));
            await using (coordinator)
            {
                output.WriteLine($"coordinator listening on {coordinator.Address}");
                if (coordinator.PageAddress is { } page) output.WriteLine($"job page: {page}/");
                output.Flush();
                var result = await JobProgressView.PlainAsync(coordinator, output, cancellationToken);
                return Summarize(result!, coordinator, output); // null only when aborted, and nothing aborts here
            }
        });
        return command;
    }

    private static Command WorkerCommand()
    {
        var coordinatorAddress = new Option<string>("--coordinator") { Description = "Coordinator address, e.g. 127.0.0.1:7000.", Required = true };
        var workDir = new Option<string?>("--work-dir") { Description = "Directory for intermediate files (default: current directory)." };
        var outputDir = new Option<string?>("--output") { Description = "Directory for mr-out-* files (default: current directory)." };
        var connectTimeoutMs = new Option<int>("--connect-timeout-ms") { Description = "Give up if the coordinator cannot be reached for this long.", DefaultValueFactory = _ => 5_000 };
        var command = new Command("worker", "Run tasks for a coordinator until it says the job is done.");
        command.Options.Add(App);
        command.Options.Add(AppArgs);
        command.Options.Add(coordinatorAddress);
        command.Options.Add(workDir);
        command.Options.Add(outputDir);
        command.Options.Add(connectTimeoutMs);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var app = LoadApp(parse);
            var options = new WorkerOptions
            {
                CoordinatorAddress = NormalizeAddress(parse.GetValue(coordinatorAddress)!),
                App = app,
                WorkDirectory = parse.GetValue(workDir) ?? Environment.CurrentDirectory,
                OutputDirectory = parse.GetValue(outputDir) ?? Environment.CurrentDirectory,
                ConnectTimeout = TimeSpan.FromMilliseconds(parse.GetValue(connectTimeoutMs)),
            };
            var exit = await Translate(() => MapReduceWorker.RunAsync(options, cancellationToken));
            // Only "exit" from the coordinator means the job is done: a coordinator that went silent first (killed,
            // crashed, unreachable) leaves the job unfinished as far as this worker knows.
            if (exit == WorkerExit.CoordinatorGone)
                throw new CliException($"lost the coordinator at {options.CoordinatorAddress}: it stopped answering before saying the job was done",
                    ExitCodes.Unavailable);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RunCommand()
    {
        var workers = new Option<int>("--workers") { Description = "Number of worker processes.", DefaultValueFactory = _ => 2 };
        var outputDir = new Option<string?>("--output") { Description = "Directory for mr-out-* files (default: current directory)." };
        var command = new Command("run", "Run a whole job locally: a coordinator plus worker processes, with live progress.");
        foreach (var option in JobOptions()) command.Options.Add(option);
        command.Options.Add(App);
        command.Options.Add(AppArgs);
        command.Options.Add(workers);
        command.Options.Add(outputDir);
        command.Options.Add(PagePort);
        command.Arguments.Add(Files);
        command.SetAction(async (parse, cancellationToken) =>
        {
            LoadApp(parse); // fail fast, in this process, on a bad app or app argument
            var workerCount = parse.GetValue(workers);
            if (workerCount < 1) throw new CliException("--workers must be at least 1", ExitCodes.Usage);
            var output = Path.GetFullPath(parse.GetValue(outputDir) ?? Environment.CurrentDirectory);
            var options = CoordinatorOptionsFrom(parse, port: 0) with
            {
                InputFiles = parse.GetValue(Files)!.Select(Path.GetFullPath).ToArray(),
                PagePort = CheckedPagePort(parse),
            };
            var coordinator = await Translate(() => MapReduceCoordinator.StartAsync(options, cancellationToken));
            await using (coordinator)
            {
                if (coordinator.PageAddress is { } page) parse.InvocationConfiguration.Output.WriteLine($"job page: {page}/");
                using var pool = new LocalWorkerPool(output, options.ShuffleOverRpc, WorkerArguments(parse, coordinator.Address, output));
                pool.Start(workerCount);
                var view = parse.InvocationConfiguration.Output;
                var result = Console.IsOutputRedirected || view != Console.Out
                    ? await JobProgressView.PlainAsync(coordinator, view, cancellationToken, pool.AllFailed)
                    : await JobProgressView.BarsAsync(coordinator, cancellationToken, pool.AllFailed);
                await pool.WaitForExitAsync(TimeSpan.FromSeconds(10));
                if (result is null) throw new CliException($"every worker failed: {pool.LastError}", pool.LastExitCode);
                return Summarize(result, coordinator, view);
            }
        });
        return command;
    }

    private static Command SequentialCommand()
    {
        var outputFile = new Option<string>("--output") { Description = "Output file.", DefaultValueFactory = _ => "mr-out-0" };
        var command = new Command("sequential", "Run a job in one process, all output in one file: the reference for checking distributed runs.");
        command.Options.Add(App);
        command.Options.Add(AppArgs);
        command.Options.Add(outputFile);
        command.Arguments.Add(Files);
        command.SetAction(parse =>
        {
            var app = LoadApp(parse);
            var lines = Translate(() => SequentialRunner.Run(app, parse.GetValue(Files)!, parse.GetValue(outputFile)!));
            parse.InvocationConfiguration.Output.WriteLine($"wrote {lines} keys to {parse.GetValue(outputFile)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static IEnumerable<Option> JobOptions() => [Reduce, TaskTimeoutMs, BackupTasks, BackupAfterMs, Combiner, NoCombiner, Partitioner, ShuffleMode];

    private static int? CheckedPagePort(ParseResult parse) => parse.GetValue(PagePort) is { } port
        ? port is >= 0 and <= 65535 ? port : throw new CliException($"--page-port must be 0..65535, not {port}", ExitCodes.Usage)
        : null;

    private static CoordinatorOptions CoordinatorOptionsFrom(ParseResult parse, int port)
    {
        var shuffle = parse.GetValue(ShuffleMode);
        if (shuffle is not ("rpc" or "shared")) throw new CliException($"--shuffle must be rpc or shared, not '{shuffle}'", ExitCodes.Usage);
        var partitioner = parse.GetValue(Partitioner)!;
        if (!Partitioners.Names.Contains(partitioner))
            throw new CliException($"unknown partitioner '{partitioner}' (known: {string.Join(", ", Partitioners.Names)})", ExitCodes.Usage);
        var reduce = parse.GetValue(Reduce);
        if (reduce < 1) throw new CliException("--reduce must be at least 1", ExitCodes.Usage);
        if (parse.GetValue(Combiner) && parse.GetValue(NoCombiner))
            throw new CliException("--combiner and --no-combiner contradict each other", ExitCodes.Usage);
        var timeoutMs = parse.GetValue(TaskTimeoutMs);
        if (timeoutMs < 1) throw new CliException("--task-timeout-ms must be positive", ExitCodes.Usage);
        return new CoordinatorOptions
        {
            InputFiles = parse.GetValue(Files)!,
            ReduceCount = reduce,
            Port = port,
            Combine = !parse.GetValue(NoCombiner),
            Partitioner = partitioner,
            ShuffleOverRpc = shuffle == "rpc",
            Scheduler = new SchedulerOptions
            {
                TaskTimeout = TimeSpan.FromMilliseconds(timeoutMs),
                BackupTasks = parse.GetValue(BackupTasks),
                BackupAfter = TimeSpan.FromMilliseconds(parse.GetValue(BackupAfterMs)),
            },
        };
    }

    private static List<string> WorkerArguments(ParseResult parse, string coordinatorAddress, string output)
    {
        var arguments = new List<string> { "mr", "worker", "--app", AppSpecForChild(parse.GetValue(App)!), "--coordinator", coordinatorAddress, "--output", output };
        foreach (var pair in parse.GetValue(AppArgs) ?? []) arguments.AddRange(["--app-arg", pair]);
        return arguments;
    }

    // Workers run in the output directory, so a relative assembly path must be made absolute first.
    private static string AppSpecForChild(string spec) =>
        BuiltInApps.Names.Contains(spec) || Path.IsPathRooted(spec) ? spec : Path.GetFullPath(spec);

    private static IMapReduceApp LoadApp(ParseResult parse)
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in parse.GetValue(AppArgs) ?? [])
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0) throw new CliException($"--app-arg must be KEY=VALUE, not '{pair}'", ExitCodes.Usage);
            arguments[pair[..equals]] = pair[(equals + 1)..];
        }
        return Translate(() => AppLoader.Load(parse.GetValue(App)!, arguments));
    }

    private static string NormalizeAddress(string address) =>
        address.Contains("://", StringComparison.Ordinal) ? address : $"http://{address}";

    private static int Summarize(JobResult result, MapReduceCoordinator coordinator, TextWriter output)
    {
        var progress = coordinator.Progress();
        var c = result.Counters;
        output.WriteLine($"job {(result.State == JobState.Succeeded ? "succeeded" : "FAILED")} in {result.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s: " +
                         $"{progress.MapsTotal} map tasks, {progress.ReducesTotal} reduce tasks");
        output.WriteLine($"  map:    {c.Map.RecordsIn} inputs, {c.Map.RecordsOut} records out, {Bytes(c.Map.BytesIn)} in, {Bytes(c.Map.BytesOut)} out");
        output.WriteLine($"  reduce: {c.Reduce.RecordsIn} records in, {c.Reduce.RecordsOut} keys out, {Bytes(c.Reduce.BytesIn)} in, {Bytes(c.Reduce.BytesOut)} out");
        output.WriteLine($"  retries: {c.Retries} ({c.TimedOutAttempts} timed out, {c.FailedAttempts} failed), backup attempts {c.BackupAttempts}, " +
                         $"map re-executions {c.MapReexecutions}, duplicate completions {c.DuplicateCompletions}");
        if (result.State == JobState.Succeeded) return ExitCodes.Ok;
        throw new CliException($"job failed: {result.FailureReason}", ExitCodes.Failure);
    }

    private static string Bytes(long bytes) => bytes >= 1 << 20
        ? $"{(bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture)} MiB"
        : $"{(bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture)} KiB";

    private static T Translate<T>(Func<T> action)
    {
        try { return action(); }
        catch (MapReduceException e) { throw ToCli(e); }
    }

    private static async Task<T> Translate<T>(Func<Task<T>> action)
    {
        try { return await action(); }
        catch (MapReduceException e) { throw ToCli(e); }
    }

    private static CliException ToCli(MapReduceException e) => new(e.Message, e.Error switch
    {
        MapReduceError.UnknownApp or MapReduceError.BadAppArguments => ExitCodes.Usage,
        MapReduceError.BadAppAssembly or MapReduceError.BadInput => ExitCodes.BadInput,
        MapReduceError.CoordinatorUnreachable => ExitCodes.Unavailable,
        _ => ExitCodes.Failure,
    }, e);

    /// <summary>The worker processes of <c>flotilla mr run</c>; killed on dispose if still running.</summary>
    private sealed class LocalWorkerPool(string outputDirectory, bool privateWorkDirs, List<string> workerArguments) : IDisposable
    {
        private readonly List<Process> _processes = [];
        private readonly object _gate = new();
        private readonly string _scratch = Path.Combine(outputDirectory, ".flotilla-mr");
        private int _failed;

        public string LastError { get; private set; } = "";
        public int LastExitCode { get; private set; } = ExitCodes.Failure;

        public bool AllFailed() => Volatile.Read(ref _failed) >= _processes.Count;

        public void Start(int count)
        {
            var (fileName, prefix) = Infrastructure.SelfInvocation.Current();
            for (var i = 0; i < count; i++)
            {
                var workDir = Path.Combine(_scratch, privateWorkDirs ? $"worker-{i}" : "shared");
                Directory.CreateDirectory(workDir);
                var start = new ProcessStartInfo(fileName)
                {
                    WorkingDirectory = outputDirectory,
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                foreach (var argument in prefix.Concat(workerArguments).Concat(["--work-dir", workDir])) start.ArgumentList.Add(argument);
                Flotilla.MapReduce.Worker.WorkerProcessEnvironment.ApplyTo(start);
                var process = new Process { StartInfo = start, EnableRaisingEvents = true };
                var stderr = new System.Text.StringBuilder();
                process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
                process.OutputDataReceived += (_, _) => { };
                process.Exited += (_, _) =>
                {
                    if (process.ExitCode == 0) return;
                    lock (_gate)
                    {
                        lock (stderr) LastError = stderr.ToString().Trim().Split('\n')[0];
                        LastExitCode = process.ExitCode;
                    }
                    Interlocked.Increment(ref _failed);
                };
                process.Start();
                process.BeginErrorReadLine();
                process.BeginOutputReadLine();
                _processes.Add(process);
            }
        }

        public async Task WaitForExitAsync(TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            try { await Task.WhenAll(_processes.Select(p => p.WaitForExitAsync(deadline.Token))); }
            catch (OperationCanceledException) { }
        }

        public void Dispose()
        {
            foreach (var process in _processes)
            {
                try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }
                process.Dispose();
            }
            try { if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true); }
            catch (IOException) { }
        }
    }
}

/// <summary>Live progress of a job: Spectre progress bars on a terminal, plain lines otherwise.</summary>
internal static class JobProgressView
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(200);

    /// <summary>Prints a line whenever progress changes. Returns null if <paramref name="abort"/> says to give up.</summary>
    public static async Task<JobResult?> PlainAsync(MapReduceCoordinator coordinator, TextWriter output, CancellationToken cancellationToken,
        Func<bool>? abort = null)
    {
        JobProgress? last = null;
        while (!coordinator.Completion.IsCompleted)
        {
            var now = coordinator.Progress();
            if (now != last)
            {
                output.WriteLine($"map {now.MapsDone}/{now.MapsTotal} ({now.MapsRunning} running)  reduce {now.ReducesDone}/{now.ReducesTotal} ({now.ReducesRunning} running)");
                output.Flush();
                last = now;
            }
            if (abort?.Invoke() == true) return null;
            await Task.WhenAny(coordinator.Completion, Task.Delay(Refresh, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
        return await coordinator.Completion;
    }

    public static async Task<JobResult?> BarsAsync(MapReduceCoordinator coordinator, CancellationToken cancellationToken, Func<bool>? abort = null)
    {
        JobResult? result = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var first = coordinator.Progress();
                var maps = context.AddTask("map tasks", maxValue: first.MapsTotal);
                var reduces = context.AddTask("reduce tasks", maxValue: first.ReducesTotal);
                while (true)
                {
                    var now = coordinator.Progress();
                    maps.Value = now.MapsDone;
                    maps.Description = $"map tasks ({now.MapsRunning} running)";
                    reduces.Value = now.ReducesDone;
                    reduces.Description = $"reduce tasks ({now.ReducesRunning} running)";
                    context.Refresh();
                    if (coordinator.Completion.IsCompleted) { result = await coordinator.Completion; return; }
                    if (abort?.Invoke() == true) return;
                    await Task.WhenAny(coordinator.Completion, Task.Delay(Refresh, cancellationToken));
                    cancellationToken.ThrowIfCancellationRequested();
                }
            });
        return result;
    }
}
