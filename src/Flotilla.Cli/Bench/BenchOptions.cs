using Flotilla.Cli.Infrastructure;

namespace Flotilla.Cli.Bench;

/// <summary>What one <c>flotilla bench kv</c> run does. Defaults match the command's.</summary>
public sealed record BenchOptions
{
    /// <summary>Concurrent client loops, each with its own session (connection) and one request in flight.</summary>
    public int Clients { get; init; } = 1;

    /// <summary>The measured window, after <see cref="Warmup"/>.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Load runs but is not counted (connections, JIT, caches, leader discovery settle first).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Number of distinct keys, each 16 bytes (see <see cref="BenchWorkload.Key"/>).</summary>
    public int Keys { get; init; } = 1000;

    /// <summary>Bytes per written value (random printable ASCII, so bytes = characters).</summary>
    public int ValueBytes { get; init; } = 100;

    /// <summary>Share of operations that are reads: 0 = put-only, 1 = read-only.</summary>
    public double ReadRatio { get; init; } = 0.5;

    /// <summary>Every request gives up after this long (and counts as Unavailable).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Seeds key choice and values, so two runs issue the same sequence of requests.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>false: client i writes only keys with index % clients == i (no write conflicts, so a Flotilla put is
    /// one RPC). true: every client writes every key (conflicts cost a refresh Get and a second Put).</summary>
    public bool SharedWrites { get; init; }

    /// <summary>Record every request in this history file (docs/history-format.md), or null.</summary>
    public string? HistoryPath { get; init; }

    /// <summary>Server processes whose CPU time and peak memory the run reports (read from /proc at the start and the
    /// end of the measured window); empty: none.</summary>
    public IReadOnlyList<int> CpuPids { get; init; } = [];

    /// <summary>Give up attempts at one logical put after this many version conflicts.</summary>
    public const int PutAttemptsMax = 3;

    /// <summary>Bound on recorded operations (a history is held in memory until the end): the run stops there.</summary>
    public const int HistoryOperationsMax = 5_000_000;

    /// <summary>Throws a usage error for values no run can use.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new CliException(message, ExitCodes.Usage);
        }
        Require(Clients is >= 1 and <= 10_000, "--clients must be between 1 and 10000");
        Require(Duration > TimeSpan.Zero, "--duration must be positive");
        Require(Warmup >= TimeSpan.Zero, "--warmup must not be negative");
        Require(Keys is >= 1 and <= 100_000_000, "--keys must be between 1 and 100000000");
        Require(ValueBytes is >= 0 and <= Kv.KvLimits.ValueBytesMax, $"--value-size must be between 0 and {Kv.KvLimits.ValueBytesMax}");
        Require(ReadRatio is >= 0 and <= 1, "--read-ratio must be between 0 and 1");
        Require(RequestTimeout > TimeSpan.Zero, "--request-timeout must be positive");
        foreach (var pid in CpuPids)
            Require(ProcessCpuMeter.Read(pid) is not null, $"--cpu-pids: no process {pid} to watch (its /proc/{pid}/stat cannot be read)");
    }
}
