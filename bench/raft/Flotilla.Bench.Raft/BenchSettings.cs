namespace Flotilla.Bench.Raft;

/// <summary>What every run of the benchmark uses, for both systems.</summary>
public sealed record BenchSettings
{
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>One unmeasured 16-proposer run before the first measured one, for each system: a fresh .NET process
    /// runs unoptimized code for its first seconds under load while the JIT tiers up (both systems are .NET here).</summary>
    public TimeSpan Prime { get; init; } = TimeSpan.FromSeconds(3);
    public int CommandBytes { get; init; } = 100;
    public IReadOnlyList<int> Proposers { get; init; } = [1, 16, 64];
    public int FsyncSamples { get; init; } = 300;
    public int RoundTrips { get; init; } = 500;
    public bool Flotilla { get; init; } = true;
    public bool DotNext { get; init; } = true;
    /// <summary>Flotilla's peer transport: "tcp" (framed TCP, what <c>flotilla server</c> uses) or "grpc".</summary>
    public string Protocol { get; init; } = "tcp";

    public static BenchSettings Parse(Args args) => new()
    {
        Warmup = TimeSpan.FromSeconds(double.Parse(args.Get("--warmup", "1"), System.Globalization.CultureInfo.InvariantCulture)),
        Window = TimeSpan.FromSeconds(double.Parse(args.Get("--seconds", "5"), System.Globalization.CultureInfo.InvariantCulture)),
        Prime = TimeSpan.FromSeconds(double.Parse(args.Get("--prime", "3"), System.Globalization.CultureInfo.InvariantCulture)),
        CommandBytes = args.Int("--command-bytes", 100),
        Proposers = args.Get("--proposers", "1,16,64").Split(',').Select(int.Parse).ToList(),
        Flotilla = args.Get("--systems", "flotilla,dotnext").Contains("flotilla", StringComparison.Ordinal),
        DotNext = args.Get("--systems", "flotilla,dotnext").Contains("dotnext", StringComparison.Ordinal),
        Protocol = args.Get("--protocol", "tcp"),
    };
}
