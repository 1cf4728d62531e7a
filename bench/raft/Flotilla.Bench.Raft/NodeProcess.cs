using System.Diagnostics;
using System.Threading.Channels;

namespace Flotilla.Bench.Raft;

/// <summary>A child node process started from this same executable. Its stdin stays open while we live: closing it
/// (or our death) tells the child to stop, so no node outlives the benchmark.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Replies of the stdin/stdout control protocol ("role ...", "result ..."); bounded: one question at a time.
    private readonly Channel<string> _replies = Channel.CreateBounded<string>(16);
    private int _failuresShown;

    private NodeProcess(Process process, string logPath)
    {
        _process = process;
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.WriteLine(e.Data);
            if (e.Data.StartsWith("ready", StringComparison.Ordinal)) _ready.TrySetResult(e.Data);
            // A failed proposal is a result too: show the first few so a table with failures explains itself.
            if (e.Data.Contains("failed:", StringComparison.Ordinal) && Interlocked.Increment(ref _failuresShown) <= 5)
                Console.Error.WriteLine($"== node pid {process.Id}: {e.Data}");
            if (e.Data.StartsWith("role ", StringComparison.Ordinal) || e.Data.StartsWith("result ", StringComparison.Ordinal)) _replies.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"node process exited early; see {logPath}"));
    }

    public int Pid => _process.Id;

    public static NodeProcess Start(IReadOnlyList<string> arguments, string logPath)
    {
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Run as `dotnet Flotilla.Bench.Raft.dll ...` or as the apphost: re-invoke ourselves the same way.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") info.ArgumentList.Add(typeof(NodeProcess).Assembly.Location);
        foreach (var a in arguments) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process, logPath);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    public Task WaitReadyAsync(TimeSpan timeout) => _ready.Task.WaitAsync(timeout);

    /// <summary>Sends one control line and returns the reply line without its first word.</summary>
    public async Task<string> AskAsync(string line, TimeSpan timeout)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
        using var limit = new CancellationTokenSource(timeout);
        var reply = await _replies.Reader.ReadAsync(limit.Token);
        return reply[(reply.IndexOf(' ') + 1)..];
    }

    public async ValueTask DisposeAsync()
    {
        if (_process.HasExited) { _process.Dispose(); return; }
        try { _process.StandardInput.Close(); } catch (IOException) { }
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); }
        _process.Dispose();
    }
}
