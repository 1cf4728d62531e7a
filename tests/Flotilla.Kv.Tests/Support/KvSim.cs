using Flotilla.Kv.Client;
using Flotilla.Kv.Server;
using Flotilla.Kv.Storage;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Runtime;
using Flotilla.Simulation;

namespace Flotilla.Kv.Tests.Support;

/// <summary>A simulated single-node KV deployment: server n1, clients n100.., one shared history.</summary>
internal sealed class KvSim
{
    public static readonly NodeId ServerId = new(1);

    public KvSim(Simulator sim, bool durable = false, KvDurableLogOptions? logOptions = null)
    {
        Sim = sim;
        Server = sim.AddNode(ServerId, node =>
        {
            if (!durable)
            {
                node.Service = new KvServer(node.Context);
                return;
            }
            // Recovery reads the disk asynchronously; the server is mapped once it has its state back.
            node.Post(async () => node.Service = (await KvServer.OpenDurableAsync(node.Context, logOptions ?? SmallSegments)).Server);
        });
        History = VersionedKv.CreateRecorder(sim.Time);
    }

    /// <summary>A preallocated 16 MiB segment per simulated disk would only cost memory here.</summary>
    private static readonly KvDurableLogOptions SmallSegments = new() { Wal = new Wal.WalOptions { Directory = "kv/wal", SegmentBytes = 64 * 1024 } };

    public Simulator Sim { get; }

    public SimNode Server { get; }

    public HistoryRecorder<KvInput, KvOutput> History { get; }

    public KvServer KvServer => Server.GetService<KvServer>();

    /// <summary>Adds a client node; its client records into <see cref="History"/>.</summary>
    public (SimNode Node, IKvClient Client) AddClient(int index, KvClientOptions? options = null)
    {
        var node = Sim.AddClient(new NodeId(100 + index));
        var client = new Flotilla.Kv.Replicated.Testing.RecordingClient(KvClient.Over(node.Context, [ServerId], options), History, index);
        return (node, client);
    }

    /// <summary>Checks the whole history with the linearizability checker; fails with the offending partition.</summary>
    public void AssertLinearizable()
    {
        var operations = History.Operations;
        var result = VersionedKv.Check(operations, new Linearizability.Checking.CheckOptions { Timeout = TimeSpan.FromSeconds(30) });
        if (result.Outcome == Linearizability.Checking.CheckOutcome.Ok) return;
        var failed = result.Partitions.FirstOrDefault(p => p.Outcome != Linearizability.Checking.CheckOutcome.Ok);
        Assert.Fail($"history of {operations.Count} operations is {result.Outcome} (key '{failed?.Key}', state {failed?.StateAfterLongest})");
    }
}
