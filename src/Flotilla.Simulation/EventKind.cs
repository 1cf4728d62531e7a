namespace Flotilla.Simulation;

/// <summary>What a simulator event is; part of the trace hash, so two runs that differ in kind of event differ in hash.</summary>
public enum EventKind : byte
{
    Continuation = 1,
    Timer = 2,
    RequestDelivery = 3,
    ReplyDelivery = 4,
    MessageDelivery = 5,
    CallFailure = 6,
    Boot = 7,
    Disk = 8,
}
