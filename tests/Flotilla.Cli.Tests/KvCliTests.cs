using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Flotilla.Cli.Infrastructure;
using Flotilla.Kv.Hosting;

namespace Flotilla.Cli.Tests;

/// <summary><c>flotilla kv get|put|serve</c>: JSON output, exit codes, endpoints, and a kill -9 of a real server process.</summary>
public sealed class KvCliTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flotilla-kvcli-" + Guid.NewGuid().ToString("N"));
    private KvServerHost _server = null!;

    private string Addr => _server.Address.Authority;

    public async Task InitializeAsync() => _server = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _data);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }

    private static JsonElement SingleJson(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        using var document = JsonDocument.Parse(lines[0]);
        var root = document.RootElement.Clone();
        Assert.Equal(["key", "value", "version", "error"], root.EnumerateObject().Select(p => p.Name));
        return root;
    }

    [Fact]
    public async Task PutThenGetPrintOneJsonObjectEachAndExitZero()
    {
        var put = await CliHarness.RunAsync("kv", "put", "color", "blue", "--version", "0", "--server", Addr, "--json");
        Assert.Equal(ExitCodes.Ok, put.ExitCode);
        var putJson = SingleJson(put.Out);
        Assert.Equal("blue", putJson.GetProperty("value").GetString());
        Assert.Equal(1UL, putJson.GetProperty("version").GetUInt64());
        Assert.Equal(JsonValueKind.Null, putJson.GetProperty("error").ValueKind);

        var get = await CliHarness.RunAsync("kv", "get", "color", "--server", Addr, "--json");
        Assert.Equal(ExitCodes.Ok, get.ExitCode);
        var getJson = SingleJson(get.Out);
        Assert.Equal("color", getJson.GetProperty("key").GetString());
        Assert.Equal("blue", getJson.GetProperty("value").GetString());
        Assert.Equal(1UL, getJson.GetProperty("version").GetUInt64());
        Assert.Empty(get.Err);

        var text = await CliHarness.RunAsync("kv", "get", "color", "--server", Addr);
        Assert.Equal("blue (version 1)", text.Out.Trim());
    }

    [Theory]
    [InlineData(new[] { "get", "missing" }, ExitCodes.KvNoKey, "ErrNoKey")]
    [InlineData(new[] { "put", "missing", "v", "--version", "3" }, ExitCodes.KvNoKey, "ErrNoKey")]
    [InlineData(new[] { "put", "taken", "v", "--version", "0" }, ExitCodes.KvVersion, "ErrVersion")]
    [InlineData(new[] { "put", "taken", "v", "--version", "7" }, ExitCodes.KvVersion, "ErrVersion")]
    public async Task EachKvErrorHasItsJsonNameAndExitCode(string[] command, int exitCode, string error)
    {
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("kv", "put", "taken", "x", "--version", "0", "--server", Addr)).ExitCode);
        var run = await CliHarness.RunAsync(["kv", .. command, "--server", Addr, "--json"]);
        Assert.Equal(exitCode, run.ExitCode);
        var json = SingleJson(run.Out);
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("value").ValueKind);
        Assert.StartsWith($"flotilla: error: {error}", run.Err);
    }

    [Fact]
    public async Task UnreachableServerExitsThreeWithOneLineWithinTheTimeout()
    {
        var clock = Stopwatch.StartNew();
        var run = await CliHarness.RunAsync("kv", "get", "k", "--server", $"127.0.0.1:{FreePort()}", "--timeout", "1s", "--json");
        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
        Assert.Equal("Unavailable", SingleJson(run.Out).GetProperty("error").GetString());
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flotilla: error: no KV server answered within 1s", run.Err);
    }

    [Fact]
    public async Task OversizedValueOrEmptyKeyIsBadInputExitFour()
    {
        var big = new string('x', Kv.KvLimits.ValueBytesMax + 1);
        var run = await CliHarness.RunAsync("kv", "put", "k", big, "--version", "0", "--server", Addr);
        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith("flotilla: error: invalid argument: value is 1048577 bytes", run.Err);
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var empty = await CliHarness.RunAsync("kv", "get", "", "--server", Addr);
        Assert.Equal(ExitCodes.BadInput, empty.ExitCode);
        Assert.Contains("key is empty", empty.Err);
    }

    [Fact]
    public async Task ClusterListAndClusterFileTryEndpointsInTurn()
    {
        var dead = $"127.0.0.1:{FreePort()}";
        Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("kv", "put", "a", "1", "--version", "0", "--cluster", $"{dead},{Addr}", "--json")).ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"cluster-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { endpoints = new[] { dead, Addr } }));
        try
        {
            var get = await CliHarness.RunAsync("kv", "get", "a", "--cluster", file, "--json");
            Assert.Equal(ExitCodes.Ok, get.ExitCode);
            Assert.Equal("1", SingleJson(get.Out).GetProperty("value").GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("kv", "get", "k")]                                             // no endpoint
    [InlineData("kv", "get", "k", "--server", "a:1", "--cluster", "b:2")]      // both
    [InlineData("kv", "get", "k", "--server", "not an endpoint")]
    [InlineData("kv", "get", "k", "--server", "127.0.0.1:1", "--timeout", "soon")]
    [InlineData("kv", "put", "k", "v", "--server", "127.0.0.1:1")]            // no --version
    public async Task BadCommandLinesAreUsageErrors(params string[] args)
    {
        var run = await CliHarness.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.StartsWith("flotilla:", run.Err);
    }

    [Fact]
    public async Task AcknowledgedPutSurvivesKillMinusNineOfTheServerProcess()
    {
        var data = _data + "-proc";
        try
        {
            var (first, address) = await StartServerProcessAsync(data);
            using (first)
            {
                for (var i = 0; i < 20; i++)
                    Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("kv", "put", $"k{i}", $"v{i}", "--version", "0", "--server", address)).ExitCode);
                first.Kill(); // SIGKILL: no shutdown code runs
                await first.WaitForExitAsync();
            }
            var (second, address2) = await StartServerProcessAsync(data);
            using (second)
            {
                try
                {
                    for (var i = 0; i < 20; i++)
                    {
                        var get = await CliHarness.RunAsync("kv", "get", $"k{i}", "--server", address2, "--json");
                        Assert.Equal(ExitCodes.Ok, get.ExitCode);
                        Assert.Equal($"v{i}", SingleJson(get.Out).GetProperty("value").GetString());
                    }
                }
                finally
                {
                    second.Kill();
                    await second.WaitForExitAsync();
                }
            }
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KvServeRefusesToStartWhenItsLastWalSegmentIsDeletedOrEmptiedWithExitFourAndOneLine(bool delete)
    {
        var data = _data + "-lost";
        try
        {
            await using (var host = await KvServerHost.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), data))
            {
                for (var i = 0; i < 20; i++)
                    Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("kv", "put", $"k{i}", $"v{i}", "--version", "0", "--server", host.Address.Authority)).ExitCode);
            }
            var last = Directory.GetFiles(Path.Combine(data, "kv", "wal"), "*.seg").Order(StringComparer.Ordinal).Last();
            if (delete) File.Delete(last);
            else File.WriteAllBytes(last, []);

            var dll = Path.Combine(AppContext.BaseDirectory, "flotilla.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { dll, "kv", "serve", "--listen", "127.0.0.1:0", "--data", data }) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"kv serve started on a WAL whose last segment was {(delete ? "deleted" : "emptied")}: {await stdout}");
            }
            Assert.Equal(ExitCodes.BadInput, process.ExitCode);
            var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            Assert.StartsWith("flotilla: error: refusing to start", line);
            Assert.Contains(Path.GetFileName(last), line);
            _ = await stdout;
        }
        finally
        {
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Starts <c>flotilla kv serve</c> as a child process and waits (with a deadline) for its address line.</summary>
    private static async Task<(Process Process, string Address)> StartServerProcessAsync(string data)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "flotilla.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "kv", "serve", "--listen", "127.0.0.1:0", "--data", data }) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(deadline.Token)
                           ?? throw new InvalidOperationException($"server exited: {await process.StandardError.ReadToEndAsync()}");
                const string marker = "listening on ";
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                if (at < 0) continue;
                var uri = new Uri(line[(at + marker.Length)..].Split(' ')[0]);
                return (process, uri.Authority);
            }
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
