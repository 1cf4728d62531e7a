namespace Flotilla.MapReduce.Core;

/// <summary>What one task attempt consumed and produced; summed into the job's counters when the attempt wins.</summary>
public readonly record struct TaskCounters(long RecordsIn, long RecordsOut, long BytesIn, long BytesOut)
{
    public static TaskCounters operator +(TaskCounters a, TaskCounters b) =>
        new(a.RecordsIn + b.RecordsIn, a.RecordsOut + b.RecordsOut, a.BytesIn + b.BytesIn, a.BytesOut + b.BytesOut);
}
