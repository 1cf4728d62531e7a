using System.Globalization;
using System.Text;
using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Models;

namespace Flotilla.Linearizability.Reporting;

/// <summary>A checked history, ready to be printed (<see cref="Summary"/>, <see cref="Details"/>) or rendered as HTML
/// (<see cref="HistoryHtml"/>), without the model's generic types.</summary>
public sealed record HistoryReport(string ModelName, IReadOnlyList<OperationView> Operations, CheckResult Result)
{
    /// <summary>How many failing partitions and operations per partition <see cref="Details"/> lists.</summary>
    private const int DetailPartitionsMax = 5;
    private const int DetailPrefixTailMax = 5;

    public static HistoryReport Create<TState, TInput, TOutput>(
        string modelName, IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> history, CheckResult result)
        where TOutput : class
    {
        var views = history.Select((op, i) => new OperationView(
            i, op.ClientId, op.CallTime, op.ReturnTime, model.DescribeOperation(op.Input, op.EffectiveOutput), model.PartitionKey(op.Input))).ToArray();
        return new HistoryReport(modelName, views, result);
    }

    /// <summary>One line: <c>linearizable</c>, <c>NOT linearizable (key "k": ...)</c> or <c>unknown (timed out after ...)</c>.</summary>
    public string Summary()
    {
        switch (Result.Outcome)
        {
            case CheckOutcome.Ok:
                return "linearizable";
            case CheckOutcome.Illegal:
                var failed = Result.FailedPartitions.ToArray();
                var first = failed[0];
                var more = failed.Length > 1 ? $"; and {failed.Length - 1} more key(s)" : "";
                return $"NOT linearizable ({KeyName(first.Key)}: {Explain(first)}{more})";
            default:
                var unfinished = Result.Partitions.Where(p => p.Outcome == CheckOutcome.Unknown).ToArray();
                var limit = Result.Timeout is { } t ? FormatDuration(t) : FormatDuration(Result.Elapsed);
                var why = unfinished.Any(p => p.UnknownCause == UnknownCause.TimedOut)
                    ? $"timed out after {limit}"
                    : $"search too large: {unfinished.Max(p => p.StatesExplored):N0} states on {KeyName(unfinished.MaxBy(p => p.StatesExplored)!.Key)}";
                return $"unknown ({why}; {unfinished.Length} of {Result.Partitions.Count} key(s) unfinished)";
        }
    }

    /// <summary>Further lines for a human: the numbers, and for failing keys the end of the longest linearizable
    /// prefix and the operations that could not follow it.</summary>
    public IEnumerable<string> Details()
    {
        yield return $"{Operations.Count} operations, {Result.Partitions.Count} key(s), {Operations.Count(o => o.ReturnTime is null)} never returned; " +
                     $"checked in {FormatDuration(Result.Elapsed)}";
        foreach (var p in Result.FailedPartitions.Take(DetailPartitionsMax))
        {
            yield return $"{KeyName(p.Key)}: {p.Operations.Count} operations; longest linearizable prefix has {p.LongestLinearization.Count}, ending in state {p.StateAfterLongest}";
            var tail = p.LongestLinearization.Skip(Math.Max(0, p.LongestLinearization.Count - DetailPrefixTailMax));
            foreach (var i in tail) yield return $"    linearized  {Describe(i)}";
            foreach (var i in p.Stuck) yield return $"    cannot follow: {Describe(i)}{(i == p.Deadline ? "  (had to take effect before it returned)" : "")}";
        }
    }

    public string Text()
    {
        var sb = new StringBuilder().AppendLine(Summary());
        foreach (var line in Details()) sb.AppendLine(line);
        return sb.ToString();
    }

    private string Explain(PartitionResult p)
    {
        if (p.Deadline is not { } deadline) return "no linearization";
        return $"{Describe(deadline)} cannot be linearized after {p.LongestLinearization.Count} of {p.Operations.Count} operations, in state {p.StateAfterLongest}";
    }

    private string Describe(int index)
    {
        var op = Operations[index];
        var ret = op.ReturnTime is { } r ? r.ToString(CultureInfo.InvariantCulture) : "∞";
        return $"#{index} client {op.ClientId} [{op.CallTime}, {ret}] {op.Description}";
    }

    internal static string KeyName(string? key) => key is null ? "all operations" : $"key \"{key}\"";

    internal static string FormatDuration(TimeSpan t) =>
        t.TotalSeconds >= 1
            ? t.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture) + " s"
            : t.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + " ms";
}
