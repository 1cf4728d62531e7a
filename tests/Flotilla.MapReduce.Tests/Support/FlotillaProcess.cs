using System.Diagnostics;
using System.Text;

namespace Flotilla.MapReduce.Tests.Support;

/// <summary>One real <c>dotnet flotilla.dll ...</c> process with its output captured. Killed on dispose.</summary>
internal sealed class FlotillaProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private FlotillaProcess(Process process) => _process = process;

    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "flotilla.dll");

    public string Name { get; private init; } = "";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardOutput { get { lock (_stdout) return _stdout.ToString(); } }

    public string StandardError { get { lock (_stderr) return _stderr.ToString(); } }

    public static FlotillaProcess Start(string workingDirectory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        var list = arguments.ToList();
        foreach (var argument in list) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        var wrapper = new FlotillaProcess(process) { Name = string.Join(' ', list.Take(3)) };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (wrapper._stdout) wrapper._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (wrapper._stderr) wrapper._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Waits for the process to exit; fails the test (with its output) if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(deadline.Token); }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"'{Name}' still running after {timeout.TotalSeconds} s; stdout: {StandardOutput}; stderr: {StandardError}");
        }
        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Waits until stdout has a line starting with <paramref name="prefix"/> and returns the rest of it.</summary>
    public async Task<string> WaitForOutputLineAsync(string prefix, TimeSpan timeout)
    {
        var line = await Wait.UntilAsync(() =>
            StandardOutput.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)),
            timeout, $"'{Name}' to print '{prefix}'", () => $"exited: {HasExited}; stderr: {StandardError}");
        return line[prefix.Length..];
    }

    /// <summary>kill -9, and wait until it is gone.</summary>
    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>Every process a test starts; all killed when the test ends, pass or fail.</summary>
internal sealed class ProcessScope : IDisposable
{
    private readonly List<FlotillaProcess> _processes = [];

    public FlotillaProcess Start(string workingDirectory, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var process = FlotillaProcess.Start(workingDirectory, arguments, environment);
        lock (_processes) _processes.Add(process);
        return process;
    }

    /// <summary>Starts a coordinator and returns it with its address.</summary>
    public async Task<(FlotillaProcess Process, string Address)> StartCoordinatorAsync(string workingDirectory, IEnumerable<string> arguments,
        IEnumerable<string> inputs)
    {
        var coordinator = Start(workingDirectory, ["mr", "coordinator", .. arguments, .. inputs]);
        var address = await coordinator.WaitForOutputLineAsync("coordinator listening on ", TimeSpan.FromSeconds(30));
        return (coordinator, address.Trim());
    }

    public FlotillaProcess StartWorker(string workingDirectory, string app, string coordinator, IEnumerable<string>? extra = null,
        IReadOnlyDictionary<string, string>? environment = null) =>
        Start(workingDirectory, ["mr", "worker", "--app", app, "--coordinator", coordinator, .. extra ?? []], environment);

    public void Dispose()
    {
        lock (_processes)
        {
            foreach (var process in _processes) process.Dispose();
        }
    }
}
