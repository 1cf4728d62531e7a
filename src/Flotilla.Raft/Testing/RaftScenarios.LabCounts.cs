using Flotilla.Simulation;

namespace Flotilla.Raft.Testing;

// The lab's own iteration counts, for the soak (flotilla sim raft): CI runs the same scenarios with smaller counts.
public static partial class RaftScenarios
{
    /// <summary>6.5840's TestFigure8Unreliable3C iterates 1000 times; CI's figure8-unreliable runs 300.</summary>
    public const int Figure8UnreliableLabIterations = 1000;

    /// <summary>Figure 8 (unreliable) at the lab's 1000 iterations: in the soak, not in CI's tests.</summary>
    public static void Figure8UnreliableLab(Simulator sim) => Figure8Unreliable(sim, Figure8UnreliableLabIterations);
}
