using System.Net;
using System.Net.Sockets;
using Flotilla.Cli.Infrastructure;
using Flotilla.Server.Tests.Support;

namespace Flotilla.Server.Tests;

/// <summary>Real <c>flotilla</c> processes given bad or unlucky input: one error line, the documented exit code, and
/// nothing left behind that points somewhere wrong.</summary>
public sealed class CliErrorProcessTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"flotilla-clierr-{Guid.NewGuid():N}");

    public CliErrorProcessTests() => Directory.CreateDirectory(_dir);

    private static string OneErrorLine(CliProcess run)
    {
        var line = Assert.Single(run.ErrLines);
        Assert.StartsWith("flotilla: error: ", line);
        return line;
    }

    [Fact]
    public async Task ClusterStartOnAPortAnotherListenerHoldsFailsWithOneLineNamingItAndWritesNoClusterFile()
    {
        // One member over framed TCP uses two ports, client P and peer P+1; someone else holds the peer port.
        var (held, basePort) = HoldSecondOfTwoPorts();
        using (held)
        {
            var clusterDir = Path.Combine(_dir, "cluster");
            using var run = await CliProcess.RunAsync(Timeout, "cluster", "start", "--nodes", "1", "--dir", clusterDir, "--base-port", basePort.ToString());
            Assert.NotEqual(ExitCodes.Ok, run.ExitCode);
            Assert.Contains($"127.0.0.1:{basePort + 1}", OneErrorLine(run));
            Assert.DoesNotContain("Started", run.Out);
            Assert.False(File.Exists(Path.Combine(clusterDir, "cluster.json")), "a failed start left a cluster.json behind");
        }
    }

    [Fact]
    public async Task ServerWhosePeerPortIsTakenSaysWhichAddressInOneLine()
    {
        var (held, basePort) = HoldSecondOfTwoPorts();
        using (held)
        {
            using var run = await CliProcess.RunAsync(Timeout, "server", "--id", "1", "--peers", $"1=127.0.0.1:{basePort}",
                "--peer-urls", $"1=127.0.0.1:{basePort + 1}", "--data", Path.Combine(_dir, "n1"), "--initial-state", "new");
            Assert.Equal(ExitCodes.Failure, run.ExitCode);
            // Only the taken address: the client port was free.
            Assert.Contains($"cannot listen on 127.0.0.1:{basePort + 1}: ", OneErrorLine(run));
        }
    }

    [Theory]
    [InlineData("65534")]
    [InlineData("-1")]
    public async Task ClusterStartWithABasePortWithoutRoomForEveryMemberIsAUsageError(string basePort)
    {
        using var run = await CliProcess.RunAsync(Timeout, "cluster", "start", "--nodes", "3", "--dir", Path.Combine(_dir, "c"), "--base-port", basePort);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--base-port", OneErrorLine(run));
    }

    [Fact]
    public async Task EveryCommandGivesTheSameExitCodeForAMissingClusterFile()
    {
        var missing = Path.Combine(_dir, "nonexistent");
        var commands = new[]
        {
            new[] { "kv", "get", "k", "--cluster", missing },
            ["kv", "put", "k", "v", "--version", "0", "--cluster", missing],
            ["cluster", "stop", "--cluster", missing],
            ["cluster", "status", "--cluster", missing],
            ["cluster", "restart", "1", "--cluster", missing],
            ["bench", "kv", "--cluster", missing, "--duration", "1s"],
        };
        var runs = await Task.WhenAll(commands.Select(c => CliProcess.RunAsync(Timeout, c)));
        foreach (var (run, command) in runs.Zip(commands))
        {
            using (run)
            {
                Assert.True(run.ExitCode == ExitCodes.BadInput, $"{string.Join(' ', command)} exited {run.ExitCode}: {run.Err}");
                Assert.Contains($"cluster file not found: {missing}", OneErrorLine(run));
            }
        }
    }

    [Theory]
    [InlineData("""{"kind": "mapreduce-job", "endpoints": ["127.0.0.1:1"]}""", "unknown kind \"mapreduce-job\"")]
    [InlineData("""{"endpoints": ["127.0.0.1:1"], "members": [{"id": 0, "address": "x"}]}""", "member id 0")]
    [InlineData("""{"endpoints": """, "not a valid cluster file")]
    [InlineData("""{"members": []}""", "expected {\"endpoints\"")]
    [InlineData("""{"endpoints": []}""", "no endpoints")]
    public async Task AMalformedOrWrongKindClusterFileIsOneLineExitFourForEveryCommand(string json, string expected)
    {
        var path = Path.Combine(_dir, "cluster.json");
        await File.WriteAllTextAsync(path, json);
        foreach (var command in new[] { new[] { "kv", "get", "k", "--cluster", path }, ["cluster", "stop", "--cluster", path] })
        {
            using var run = await CliProcess.RunAsync(Timeout, command);
            Assert.Equal(ExitCodes.BadInput, run.ExitCode);
            var line = OneErrorLine(run);
            Assert.Contains(path, line);
            Assert.Contains(expected, line);
        }
    }

    [Fact]
    public async Task AnUnknownCommandPrintsExactlyOneLine()
    {
        using var run = await CliProcess.RunAsync(Timeout, "no-such-command");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("'no-such-command'", OneErrorLine(run));
    }

    [Fact]
    public async Task KvGetAgainstAnUnreachableServerIsOneLineNamingTheAddressesTried()
    {
        var (a, b) = (CliProcess.FreePort(), CliProcess.FreePort());
        using var run = await CliProcess.RunAsync(Timeout, "kv", "get", "k", "--cluster", $"127.0.0.1:{a},127.0.0.1:{b}", "--timeout", "1s");
        Assert.Equal(ExitCodes.Unavailable, run.ExitCode);
        var line = OneErrorLine(run);
        Assert.Contains($"127.0.0.1:{a}", line);
        Assert.Contains($"127.0.0.1:{b}", line);
        Assert.DoesNotContain("subchannel", line);
    }

    /// <summary>Two consecutive free loopback ports P, P+1 with a listener on P+1; returns it and P.</summary>
    private static (TcpListener Held, int Port) HoldSecondOfTwoPorts()
    {
        for (var attempt = 0; ; attempt++)
        {
            var held = new TcpListener(IPAddress.Loopback, 0);
            held.Start();
            var port = ((IPEndPoint)held.LocalEndpoint).Port - 1;
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return (held, port);
            }
            catch (SocketException) when (attempt < 50)
            {
                held.Stop();
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
