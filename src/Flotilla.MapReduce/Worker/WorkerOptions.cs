using Flotilla.MapReduce.Apps;

namespace Flotilla.MapReduce.Worker;

public sealed record WorkerOptions
{
    public required string CoordinatorAddress { get; init; }
    public required IMapReduceApp App { get; init; }
    /// <summary>Intermediate files: private in RPC-shuffle mode, shared by all workers in shared-directory mode.</summary>
    public string WorkDirectory { get; init; } = Environment.CurrentDirectory;
    /// <summary>Where mr-out-R files go.</summary>
    public string OutputDirectory { get; init; } = Environment.CurrentDirectory;
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..^24];
    /// <summary>Pause between asks when the coordinator says "wait".</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Give up (with an error) if the coordinator cannot be reached at all for this long.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Once in touch, a coordinator silent for this long is taken to be gone (<see cref="WorkerExit.CoordinatorGone"/>).</summary>
    public TimeSpan CoordinatorGoneAfter { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Deadline of one fetch of one intermediate partition.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

public enum WorkerExit
{
    /// <summary>The coordinator said the job is over.</summary>
    JobDone,
    /// <summary>The coordinator went silent after we had worked with it, without saying the job was over (it was
    /// killed or crashed, or it left without us): <c>flotilla mr worker</c> exits 3.</summary>
    CoordinatorGone,
}
