using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.History;
using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Reporting;
using Flotilla.Linearizability.Tests.Support;
using static Flotilla.Linearizability.Tests.Support.Kv;

namespace Flotilla.Linearizability.Tests;

public class HistoryJsonTests
{
    [Fact]
    public void HistorySurvivesAJsonRoundTrip()
    {
        Operation<KvInput, KvOutput>[] history =
        [
            Put(3, 1234, 1299, "k", "x", 2, KvOutput.Maybe),
            Get(1, 1300, 1400, "k", "x", 3),
            GetNoKey(2, 5, 6, "other \"quoted\" key"),
            Put(4, 10, null, "k", "p", 0),
            Put(5, 11, 12, "k", "q", 7, KvOutput.NoKey),
            Put(5, 13, 14, "k", "r", 7, KvOutput.VersionMismatch),
            Put(6, 15, 16, "k", "s", 3),
        ];
        var json = VersionedKv.ToJson(history);
        Assert.Equal(history, VersionedKv.FromJson(json));
    }

    [Fact]
    public void TheDocumentedExampleParses()
    {
        const string json = """
            {"model":"versioned-kv","timeUnit":"ns","operations":[
              {"client":3,"call":1234,"return":1299,"input":{"op":"put","key":"k","value":"x","version":2},"output":{"error":"ErrMaybe"}},
              {"client":1,"call":1300,"return":1400,"input":{"op":"get","key":"k"},"output":{"value":"x","version":3,"error":null}},
              {"client":2,"call":1500,"return":null,"input":{"op":"put","key":"k","value":"y","version":3},"output":null},
              {"client":4,"call":1600,"return":1700,"input":{"op":"put","key":"k","value":"z","version":9},"output":{"error":null}}
            ]}
            """;
        var history = VersionedKv.FromJson(json);
        Assert.Equal(
        [
            Put(3, 1234, 1299, "k", "x", 2, KvOutput.Maybe),
            Get(1, 1300, 1400, "k", "x", 3),
            Put(2, 1500, null, "k", "y", 3),
            Put(4, 1600, 1700, "k", "z", 9, KvOutput.Ok),
        ], history);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("""{"operations":[]}""", "\"model\"")]
    [InlineData("""{"model":"versioned-kv"}""", "\"operations\"")]
    [InlineData("""{"model":"versioned-kv","timeUnit":"ms","operations":[]}""", "timeUnit")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":1,"return":2,"input":{"op":"get","key":"k"}}]}""", "operation 0: missing \"call\"")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":1,"call":5,"return":2,"input":{"op":"get","key":"k"}}]}""", "before it is called")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":1,"call":1,"return":2,"input":{"op":"cas","key":"k"}}]}""", "unknown op")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":1,"call":1,"return":2,"input":{"op":"put","key":"k","value":"v"}}]}""", "missing \"version\"")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":1,"call":1,"return":2,"input":{"op":"get","key":"k"},"output":{"error":"Oops"}}]}""", "unknown error")]
    [InlineData("""{"model":"versioned-kv","operations":[{"client":"x","call":1,"return":2,"input":{"op":"get","key":"k"}}]}""", "\"client\" must be an integer")]
    public void MalformedHistoryIsRejectedWithAMessageNamingTheProblem(string json, string expectedInMessage)
    {
        var e = Assert.Throws<HistoryFormatException>(() => ModelCatalog.CheckJson(json));
        Assert.Contains(expectedInMessage, e.Message);
    }

    [Fact]
    public void UnknownModelIsRejectedAndTheKnownOnesListed()
    {
        var e = Assert.Throws<HistoryFormatException>(() => ModelCatalog.CheckJson("""{"model":"etcd","operations":[]}"""));
        Assert.Contains("versioned-kv", e.Message);
    }

    [Fact]
    public void CatalogChecksAJsonHistoryByItsModelName()
    {
        var report = ModelCatalog.CheckJson(VersionedKv.ToJson(
        [
            Put(1, 0, 10, "k", "a", 0),
            Put(1, 20, 30, "k", "b", 1),
            Get(2, 40, 50, "k", "a", 1),
        ]));
        Assert.Equal(CheckOutcome.Illegal, report.Result.Outcome);
        Assert.StartsWith("NOT linearizable (key \"k\": #2 client 2", report.Summary());
    }

    [Fact]
    public void RecorderStampsCallsAndReturnsInNanosecondsAndLeavesUnendedOperationsPending()
    {
        var clock = new ManualClock();
        var recorder = VersionedKv.CreateRecorder(clock);
        clock.Advance(TimeSpan.FromMicroseconds(1));
        var put = recorder.Begin(1, KvInput.Put("k", "a", 0));
        clock.Advance(TimeSpan.FromMicroseconds(2));
        var lost = recorder.Begin(2, KvInput.Put("k", "b", 1));
        put.End(KvOutput.Ok);
        clock.Advance(TimeSpan.FromMicroseconds(3));

        Assert.Equal(
        [
            // Ended at the same clock reading as the second Begin, but after it: 1 ns later.
            new Operation<KvInput, KvOutput>(1, KvInput.Put("k", "a", 0), 1_000, KvOutput.Ok, 3_001),
            new Operation<KvInput, KvOutput>(2, KvInput.Put("k", "b", 1), 3_000, null, null),
        ], recorder.Operations);
        Assert.Throws<InvalidOperationException>(() => put.End(KvOutput.Ok));
        Assert.Contains("\"return\":null", recorder.ToJson());
        GC.KeepAlive(lost);
    }

    [Fact]
    public void RecorderOrdersEventsAtTheSameInstantSoAStaleReadAfterAReplyIsCaught()
    {
        // Virtual time stands still: the put's reply and the next get happen at one instant, in that order.
        var recorder = VersionedKv.CreateRecorder(new ManualClock());
        var create = recorder.Begin(1, KvInput.Put("k", "a", 0));
        create.End(KvOutput.Ok);
        var update = recorder.Begin(1, KvInput.Put("k", "b", 1));
        update.End(KvOutput.Ok);
        recorder.Begin(2, KvInput.Get("k")).End(KvOutput.Read("a", 1));

        Assert.Equal([0L, 1, 2, 3, 4], recorder.Operations.SelectMany(o => new[] { o.CallTime, o.ReturnTime!.Value }).Order().Take(5));
        Assert.Equal(CheckOutcome.Illegal, VersionedKv.Check(recorder.Operations).Outcome);
    }

    [Fact]
    public void RecorderIsSafeUnderConcurrentClientsAndSavesALoadableFile()
    {
        var recorder = VersionedKv.CreateRecorder();
        const int clients = 8, perClient = 500;
        Parallel.For(0, clients, new ParallelOptions { MaxDegreeOfParallelism = clients }, client =>
        {
            for (var i = 0; i < perClient; i++)
                recorder.Begin(client, KvInput.Get($"k{client}")).End(KvOutput.NoKey);
        });
        var path = Path.Combine(Path.GetTempPath(), $"flotilla-history-{Guid.NewGuid():N}.json");
        try
        {
            recorder.Save(path);
            var loaded = VersionedKv.FromJson(File.ReadAllText(path));
            Assert.Equal(clients * perClient, loaded.Count);
            Assert.All(loaded, op => Assert.True(op.ReturnTime >= op.CallTime));
            Assert.Equal(CheckOutcome.Ok, VersionedKv.Check(loaded).Outcome);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
