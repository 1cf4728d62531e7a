using Flotilla.Simulation.Network;

namespace Flotilla.Simulation;

/// <summary>Knobs of one simulation. Defaults model a LAN with a fast SSD.</summary>
public sealed record SimulationOptions
{
    public NetworkOptions Network { get; init; } = new();

    /// <summary>fsync latency is uniform in [min, max].</summary>
    public TimeSpan FsyncLatencyMin { get; init; } = TimeSpan.FromMicroseconds(100);
    public TimeSpan FsyncLatencyMax { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>A run that executes more events than this without finishing is reported as a livelock.</summary>
    public long EventsMax { get; init; } = 200_000_000;

    /// <summary>How many recent log lines a failure report carries.</summary>
    public int LogLinesKept { get; init; } = 200;
}
