using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Server.Tests.Support;

/// <summary>One real <c>flotilla</c> process (the CLI's dll from this test's output folder) with its output
/// captured; killed on dispose.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _err = new();

    private CliProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Out { get { lock (_out) return _out.ToString(); } }

    public string Err { get { lock (_err) return _err.ToString(); } }

    /// <summary>The non-empty lines written to stderr.</summary>
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static CliProcess Start(params string[] arguments)
    {
        var (fileName, prefix) = SelfInvocation.Current();
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(arguments)) start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var wrapper = new CliProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (wrapper._out) wrapper._out.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (wrapper._err) wrapper._err.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs a command to its end (failing the test if it takes longer than <paramref name="timeout"/>).</summary>
    public static async Task<CliProcess> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        var process = Start(arguments);
        await process.WaitForExitAsync(timeout);
        return process;
    }

    public int ExitCode => _process.ExitCode;

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(deadline.Token); }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {timeout.TotalSeconds} s; stdout: {Out}; stderr: {Err}");
        }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    /// <summary>A loopback port nothing listens on now, from below the ephemeral range so no outgoing connection takes it.</summary>
    public static int FreePort() => Flotilla.Server.Cluster.LoopbackPorts.PickFree(1)[0];
}
