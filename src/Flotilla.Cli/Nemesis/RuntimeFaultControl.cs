using System.Globalization;
using Flotilla.Server.Faults;

namespace Flotilla.Cli.Nemesis;

/// <summary>
/// The latency and clock faults in force, as the nemesis keeps them, and the control file each member reads
/// (<see cref="RuntimeFaults"/>, every 100 ms): the delays of what the node sends, its clock's speed and how far its
/// clock has jumped in all. Several faults may overlap on one link; the longest delay wins.
/// </summary>
public sealed class RuntimeFaultControl
{
    private readonly Dictionary<(int From, int To), List<(int Ms, int Jitter)>> _delays = [];
    private readonly Dictionary<int, int> _ratePercent = [];
    private readonly Dictionary<int, long> _aheadMs = [];

    /// <summary>The directed links a latency fault slows: both ways between the two nodes of a slow link, or everything
    /// to and from the node of a slow node.</summary>
    public static IEnumerable<(int From, int To)> LinksOf(FaultKind kind, IReadOnlyList<int> targets, int nodes) =>
        LinksOf(kind, targets, Enumerable.Range(1, nodes).ToList());

    /// <summary>The same among <paramref name="members"/> (ids: after member faults, not 1..n).</summary>
    public static IEnumerable<(int From, int To)> LinksOf(FaultKind kind, IReadOnlyList<int> targets, IReadOnlyList<int> members) => kind switch
    {
        FaultKind.SlowLink when targets.Count == 2 => [(targets[0], targets[1]), (targets[1], targets[0])],
        FaultKind.SlowNode => targets.SelectMany(n => members.Where(m => m != n).SelectMany(m => new[] { (n, m), (m, n) })),
        _ => [],
    };

    public void AddDelay(IEnumerable<(int From, int To)> links, int ms, int jitter)
    {
        foreach (var link in links)
        {
            if (!_delays.TryGetValue(link, out var list)) _delays[link] = list = [];
            list.Add((ms, jitter));
        }
    }

    public void RemoveDelay(IEnumerable<(int From, int To)> links, int ms, int jitter)
    {
        foreach (var link in links)
            if (_delays.TryGetValue(link, out var list) && list.Remove((ms, jitter)) && list.Count == 0) _delays.Remove(link);
    }

    public void SetRate(int node, int percent) => _ratePercent[node] = percent;

    public void ResetRate(int node) => _ratePercent.Remove(node);

    /// <summary>The node's clock jumps <paramref name="ms"/> further ahead (kept: it never goes back).</summary>
    public void Jump(int node, int ms) => _aheadMs[node] = _aheadMs.GetValueOrDefault(node) + ms;

    /// <summary>Every delay and clock rate gone; jumps stay (a clock that jumped does not come back).</summary>
    public void Clear()
    {
        _delays.Clear();
        _ratePercent.Clear();
    }

    /// <summary>Node <paramref name="node"/>'s control file, in the format <see cref="RuntimeFaults"/> reads.</summary>
    public string FileFor(int node)
    {
        var lines = new List<string>();
        foreach (var ((from, to), list) in _delays.Where(d => d.Key.From == node).OrderBy(d => d.Key.To))
        {
            var (ms, jitter) = list.MaxBy(d => d.Ms);
            lines.Add($"delay {to} {ms} {jitter}");
        }
        if (_ratePercent.TryGetValue(node, out var percent)) lines.Add($"clock-rate {(percent / 100.0).ToString("0.###", CultureInfo.InvariantCulture)}");
        if (_aheadMs.TryGetValue(node, out var ahead)) lines.Add($"clock-ahead {ahead}");
        return lines.Count == 0 ? "" : string.Join("\n", lines) + "\n";
    }
}
