namespace Flotilla.Simulation;

/// <summary>
/// The scheduler of one incarnation of a simulated node (or of the test body). Continuations posted here become
/// simulator events at the current virtual time, owned by that incarnation: when the node crashes, its pending
/// continuations never run, exactly like the code of a killed process.
/// </summary>
internal sealed class SimSynchronizationContext(Simulator simulator, SimNode? owner, int incarnation) : SynchronizationContext
{
    public SimNode? Owner => owner;
    public int Incarnation => incarnation;

    public override void Post(SendOrPostCallback d, object? state) =>
        simulator.ScheduleFromContext(this, TimeSpan.Zero, () => d(state));

    public override void Send(SendOrPostCallback d, object? state)
    {
        simulator.AssertOnSimulatorThread("SynchronizationContext.Send");
        d(state);
    }

    public override SynchronizationContext CreateCopy() => this;
}
