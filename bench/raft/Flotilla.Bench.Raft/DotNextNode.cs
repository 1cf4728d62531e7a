using System.Globalization;
using System.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Flotilla.Bench.Raft;

/// <summary>
/// <c>Flotilla.Bench.Raft dotnext-node --port P --members P1,P2,P3 --data DIR</c>: one DotNext.Net.Cluster Raft member
/// (TCP transport on loopback, persistent <see cref="WriteAheadLog"/>, which in 6.x always flushes on commit) in its own process. Controlled over stdin/stdout by the driver: "role" → "role 1|0"; "run P WARMUP_MS
/// WINDOW_MS BYTES" → "result &lt;LatencyStats line&gt;" (the load runs here, on the leader); stdin closed → stop.
/// </summary>
public static class DotNextNode
{
    public static async Task<int> RunAsync(Args args)
    {
        var port = args.Int("--port");
        var data = args.Get("--data");
        var stateMachine = new DotNextCounter(new DirectoryInfo(Path.Combine(data, "snapshots")));
        await stateMachine.RestoreAsync(CancellationToken.None);
        await using var wal = new WriteAheadLog(new WriteAheadLog.Options
        {
            Location = Path.Combine(data, "wal"),
        }, stateMachine);

        var storage = new LoopbackMemberStorage();
        var members = storage.CreateInitialConfigurationBuilder();
        foreach (var p in args.Get("--members").Split(',').Select(int.Parse))
        {
            var address = new IPEndPoint(IPAddress.Loopback, p);
            members.Add(address);
        }
        members.Build();
        var config = new RaftCluster.TcpConfiguration(new IPEndPoint(IPAddress.Loopback, port))
        {
            ConfigurationStorage = storage,
            LowerElectionTimeout = 150,
            UpperElectionTimeout = 300,
            TransmissionBlockSize = 4096,
            ColdStart = false,
        };

        using var cluster = new RaftCluster(config) { AuditTrail = wal };
        await cluster.StartAsync(CancellationToken.None);
        Console.WriteLine($"ready dotnext {port}");

        while (await Console.In.ReadLineAsync() is { } line)
        {
            var words = line.Split(' ');
            switch (words[0])
            {
                case "role":
                    Console.WriteLine($"role {(cluster.LeadershipToken.IsCancellationRequested ? 0 : 1)}");
                    break;
                case "run":
                    var stats = await RunLoadAsync(cluster, int.Parse(words[1], CultureInfo.InvariantCulture),
                        int.Parse(words[2], CultureInfo.InvariantCulture), int.Parse(words[3], CultureInfo.InvariantCulture),
                        int.Parse(words[4], CultureInfo.InvariantCulture));
                    Console.WriteLine($"result {stats.ToLine()}");
                    break;
            }
        }
        await cluster.StopAsync(CancellationToken.None);
        return 0;
    }

    private static Task<LatencyStats> RunLoadAsync(RaftCluster cluster, int proposers, int warmupMs, int windowMs, int commandBytes)
    {
        var command = new byte[commandBytes];
        Random.Shared.NextBytes(command);
        var failuresReported = 0;
        return ClosedLoop.RunAsync("dotnext", proposers, TimeSpan.FromMilliseconds(warmupMs), TimeSpan.FromMilliseconds(windowMs),
            async _ =>
            {
                try
                {
                    // Appends, replicates, and returns once the entry is committed (FlushOnCommit: durable on a majority).
                    await cluster.ReplicateAsync(new ReadOnlyMemory<byte>(command), null, CancellationToken.None);
                    return true;
                }
                catch (Exception e) when (e is NotLeaderException or InvalidOperationException or OperationCanceledException)
                {
                    if (Interlocked.Increment(ref failuresReported) <= 5) Console.WriteLine($"replicate failed: {e.GetType().Name}: {e.Message}");
                    return false;
                }
            });
    }
}
