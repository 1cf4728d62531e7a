using Flotilla.Raft;

namespace Flotilla.Raft.Tests.Core;

internal static class LogStates
{
    /// <summary>A stored state at <paramref name="term"/> whose log holds one entry per element of <paramref name="entryTerms"/>.</summary>
    public static RaftPersistentState Log(ulong term, params ulong[] entryTerms) =>
        new(new HardState(term, null, 0), null,
            entryTerms.Select((t, i) => new LogEntry((ulong)i + 1, t, EntryKind.Normal, new byte[] { (byte)t, (byte)i })).ToList());
}
