using System.Collections.Concurrent;
using System.Diagnostics;
using Flotilla.Cli.Infrastructure;

namespace Flotilla.Server.Tests;

/// <summary><c>flotilla kv serve</c> as a real child process: its address, its output, and its memory as the kernel
/// sees it (/proc), so tests can bound what a client makes it use.</summary>
internal sealed class KvServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private KvServeProcess(Process process) => _process = process;

    public Uri Address { get; private set; } = null!;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the server wrote (stdout and stderr) so far.</summary>
    public string Output => string.Join('\n', _output);

    public static async Task<KvServeProcess> StartAsync(string data, params string[] extra)
    {
        var self = SelfInvocation.Current();
        var start = new ProcessStartInfo(self.FileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in self.Prefix) start.ArgumentList.Add(a);
        foreach (var a in new[] { "kv", "serve", "--listen", "127.0.0.1:0", "--data", data }.Concat(extra)) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var address = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = new KvServeProcess(process);
        var output = server._output;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { address.TrySetException(new InvalidOperationException("kv serve exited before listening")); return; }
            output.Enqueue(e.Data);
            const string marker = "listening on ";
            var at = e.Data.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) address.TrySetResult(new Uri(e.Data[(at + marker.Length)..].Split(' ')[0]));
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.Address = await address.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch (Exception e)
        {
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"kv serve did not start: {string.Join('\n', output)}", e);
        }
    }

    /// <summary>Resident memory now and at its peak (VmRSS, VmHWM), bytes.</summary>
    public (long Now, long Peak) Rss()
    {
        long now = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) now = Kilobytes(line) * 1024;
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line) * 1024;
        }
        return (now, peak);
    }

    private static long Kilobytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
