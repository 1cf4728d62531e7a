using Flotilla.MapReduce.Core;
using Flotilla.MapReduce.Scheduling;

namespace Flotilla.MapReduce.Coordinator;

public sealed record CoordinatorOptions
{
    public required IReadOnlyList<string> InputFiles { get; init; }
    public int ReduceCount { get; init; } = 10;
    /// <summary>Loopback port to listen on; 0 picks a free one (see <see cref="MapReduceCoordinator.Address"/>).</summary>
    public int Port { get; init; }
    /// <summary>Loopback port of the job page (HTTP/1.1, docs/mapreduce.md "Job page"); 0 picks a free one
    /// (see <see cref="MapReduceCoordinator.PageAddress"/>); null serves none.</summary>
    public int? PagePort { get; init; }
    public SchedulerOptions Scheduler { get; init; } = new();
    /// <summary>Run the app's combiner on the map side (if the app has one). On by default: an app declares a combiner because it wants it.</summary>
    public bool Combine { get; init; } = true;
    public string Partitioner { get; init; } = Partitioners.Hash;
    /// <summary>True: reducers fetch map output from map workers over RPC. False: through a shared directory.</summary>
    public bool ShuffleOverRpc { get; init; } = true;
    /// <summary>After the job ends, how long to keep answering "exit" to workers that have not heard it yet.</summary>
    public TimeSpan ExitGrace { get; init; } = TimeSpan.FromSeconds(5);
}

public sealed record JobResult(JobState State, string? FailureReason, JobCounters Counters, TimeSpan Elapsed);
