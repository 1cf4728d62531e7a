using System.Globalization;
using System.Net;
using System.Text;
using Flotilla.Linearizability.Checking;

namespace Flotilla.Linearizability.Reporting;

/// <summary>
/// Renders a checked history as one self-contained HTML page (inline CSS, the shared look of src/Shared/flotilla.css
/// first; no scripts, no network resources): per key,
/// one row per client with each operation as a bar from call to return. For a failing key, the bars of the longest
/// linearizable prefix are green and numbered in linearization order, the operations that could not come next are
/// red, and the one that had to take effect before it returned is outlined.
/// </summary>
public static class HistoryHtml
{
    /// <summary>Bars per timeline: beyond this a failing key shows a window around the failure, a passing key its start.</summary>
    public const int TimelineOperationsMax = 400;

    /// <summary>Failing keys with more operations than this are shown around the failure only.</summary>
    private const int FocusThreshold = 40;
    private const int FocusPrefixTail = 8;
    private const int PixelsPerTickMin = 26;
    private const int PixelsPerTickMax = 120;
    private const int TimelineTargetWidthPx = 1200;
    private const int RowHeightPx = 30;
    private const int LabelWidthPx = 90;

    public static string Render(HistoryReport report, string? title = null)
    {
        title ??= $"Linearizability check: {report.ModelName}";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Encode(title)).Append("</title>\n<style>").Append(SharedLook.Css).Append(Css).Append("</style></head><body>\n");
        html.Append("<h1>").Append(Encode(title)).Append("</h1>\n");
        var verdictClass = report.Result.Outcome switch
        {
            CheckOutcome.Ok => "ok",
            CheckOutcome.Illegal => "illegal",
            _ => "unknown",
        };
        html.Append("<p class=\"verdict ").Append(verdictClass).Append("\">").Append(Encode(report.Summary())).Append("</p>\n<ul class=\"details\">");
        foreach (var line in report.Details().Take(1)) html.Append("<li>").Append(Encode(line)).Append("</li>");
        html.Append("</ul>\n");
        html.Append(Legend);

        // Failing keys first, then unfinished ones, then the rest.
        var partitions = report.Result.Partitions
            .OrderBy(p => p.Outcome switch { CheckOutcome.Illegal => 0, CheckOutcome.Unknown => 1, _ => 2 })
            .ToArray();
        foreach (var partition in partitions) RenderPartition(html, report, partition);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void RenderPartition(StringBuilder html, HistoryReport report, PartitionResult p)
    {
        var failing = p.Outcome == CheckOutcome.Illegal;
        var outcome = p.Outcome switch
        {
            CheckOutcome.Ok => "linearizable",
            CheckOutcome.Illegal => "NOT linearizable",
            _ => "unknown (search unfinished)",
        };
        html.Append("<details class=\"partition ").Append(p.Outcome.ToString().ToLowerInvariant()).Append('"')
            .Append(failing ? " open" : "").Append("><summary>")
            .Append(Encode(HistoryReport.KeyName(p.Key))).Append(" — ").Append(outcome)
            .Append(" — ").Append(p.Operations.Count.ToString(CultureInfo.InvariantCulture)).Append(" operations</summary>\n");

        var order = new Dictionary<int, int>();
        for (var i = 0; i < p.LongestLinearization.Count; i++) order[p.LongestLinearization[i]] = i + 1;
        var stuck = p.Stuck.ToHashSet();

        if (p.Outcome != CheckOutcome.Ok)
        {
            html.Append("<div class=\"explain\"><p>Longest linearizable prefix: <b>")
                .Append(p.LongestLinearization.Count.ToString(CultureInfo.InvariantCulture)).Append("</b> of ")
                .Append(p.Operations.Count.ToString(CultureInfo.InvariantCulture))
                .Append(" operations; state after it: <code>").Append(Encode(p.StateAfterLongest)).Append("</code></p>\n");
            if (p.LongestLinearization.Count > 0)
            {
                const int tail = 12;
                html.Append("<p>Its last operations, in linearization order:</p><ol class=\"prefix\" start=\"")
                    .Append(Math.Max(1, p.LongestLinearization.Count - tail + 1).ToString(CultureInfo.InvariantCulture)).Append("\">");
                foreach (var i in p.LongestLinearization.Skip(Math.Max(0, p.LongestLinearization.Count - tail)))
                    html.Append("<li>").Append(Encode(Line(report.Operations[i]))).Append("</li>");
                html.Append("</ol>\n");
            }
            if (p.Stuck.Count > 0)
            {
                html.Append("<p>Operations that could not be linearized next:</p><ul class=\"stuck\">");
                foreach (var i in p.Stuck)
                {
                    html.Append("<li>").Append(Encode(Line(report.Operations[i])));
                    if (i == p.Deadline) html.Append(" <b>(had to take effect before it returned)</b>");
                    html.Append("</li>");
                }
                html.Append("</ul>\n");
            }
            html.Append("</div>\n");
        }

        var shown = SelectShown(report, p);
        if (shown.Count < p.Operations.Count)
            html.Append("<p class=\"note\">Showing ").Append(shown.Count.ToString(CultureInfo.InvariantCulture)).Append(" of ")
                .Append(p.Operations.Count.ToString(CultureInfo.InvariantCulture))
                .Append(failing ? " operations, around the failure." : " operations (the first ones).").Append("</p>\n");
        RenderTimeline(html, report, shown, order, stuck, p.Deadline);
        html.Append("</details>\n");
    }

    /// <summary>A failing key with many operations shows the time window around the failure (from the last few
    /// linearized operations to the return of the one that could not be linearized); other keys are shown from the
    /// start, up to <see cref="TimelineOperationsMax"/> bars.</summary>
    private static List<OperationView> SelectShown(HistoryReport report, PartitionResult p)
    {
        var ops = p.Operations.Select(i => report.Operations[i]).OrderBy(o => o.CallTime).ThenBy(o => o.Index).ToList();
        if (p.Outcome == CheckOutcome.Illegal && ops.Count > FocusThreshold && p.Stuck.Count > 0)
        {
            var named = p.Stuck.Concat(p.LongestLinearization.Skip(Math.Max(0, p.LongestLinearization.Count - FocusPrefixTail)))
                .Select(i => report.Operations[i]).ToArray();
            var from = named.Min(o => o.CallTime);
            var to = p.Stuck.Select(i => report.Operations[i].ReturnTime ?? long.MaxValue).Max();
            // The failure is at the end of the window, so if it is too long keep its end.
            var window = ops.Where(o => o.CallTime <= to && (o.ReturnTime ?? long.MaxValue) >= from).TakeLast(TimelineOperationsMax).ToList();
            // The operations the explanation names must be on the page, however long ago they started.
            foreach (var i in p.Stuck)
                if (window.All(o => o.Index != i)) window.Add(report.Operations[i]);
            return [.. window.OrderBy(o => o.CallTime).ThenBy(o => o.Index)];
        }
        return ops.Count <= TimelineOperationsMax ? ops : ops.Take(TimelineOperationsMax).ToList();
    }

    private static void RenderTimeline(StringBuilder html, HistoryReport report, List<OperationView> ops, Dictionary<int, int> order, HashSet<int> stuck, int? deadline)
    {
        // Time is drawn by rank, not to scale: what matters is which events precede which, and ranks keep every
        // overlap visible however long or short an operation took.
        var ticks = ops.SelectMany(o => o.ReturnTime is { } r ? new[] { o.CallTime, r } : [o.CallTime]).Distinct().Order().ToArray();
        var rank = new Dictionary<long, int>(ticks.Length);
        for (var i = 0; i < ticks.Length; i++) rank[ticks[i]] = i;
        var endRank = ticks.Length + 1; // where never-returned operations run off to
        var clients = ops.Select(o => o.ClientId).Distinct().Order().ToArray();
        var row = new Dictionary<int, int>(clients.Length);
        for (var i = 0; i < clients.Length; i++) row[clients[i]] = i;

        // Short timelines get wide bars (readable labels); long ones stay compact and scroll.
        var pixelsPerTick = Math.Clamp(TimelineTargetWidthPx / Math.Max(1, endRank + 1), PixelsPerTickMin, PixelsPerTickMax);
        var width = LabelWidthPx + (endRank + 1) * pixelsPerTick;
        html.Append("<div class=\"scroll\"><div class=\"timeline\" style=\"width:").Append(width).Append("px;height:")
            .Append(clients.Length * RowHeightPx).Append("px\">\n");
        foreach (var client in clients)
            html.Append("<div class=\"label\" style=\"top:").Append(row[client] * RowHeightPx).Append("px\">client ")
                .Append(client.ToString(CultureInfo.InvariantCulture)).Append("</div>");
        html.Append('\n');
        foreach (var op in ops)
        {
            var left = LabelWidthPx + rank[op.CallTime] * pixelsPerTick;
            var right = LabelWidthPx + (op.ReturnTime is { } r ? rank[r] : endRank) * pixelsPerTick;
            var cls = "op";
            if (order.ContainsKey(op.Index)) cls += " linearized";
            if (stuck.Contains(op.Index)) cls += " stuck";
            if (op.Index == deadline) cls += " deadline";
            if (op.ReturnTime is null) cls += " pending";
            var tip = Line(op) + (order.TryGetValue(op.Index, out var n) ? $" — linearized #{n}" : "");
            html.Append("<div class=\"").Append(cls).Append("\" style=\"left:").Append(left).Append("px;width:")
                .Append(Math.Max(pixelsPerTick / 2, right - left)).Append("px;top:").Append(row[op.ClientId] * RowHeightPx + 3)
                .Append("px\" title=\"").Append(Encode(tip)).Append("\">");
            if (n > 0) html.Append("<span class=\"n\">").Append(n.ToString(CultureInfo.InvariantCulture)).Append("</span> ");
            html.Append(Encode(op.Description)).Append("</div>\n");
        }
        html.Append("</div></div>\n");
    }

    private static string Line(OperationView op)
    {
        var ret = op.ReturnTime is { } r ? r.ToString(CultureInfo.InvariantCulture) : "never returned";
        return $"#{op.Index} client {op.ClientId} [{op.CallTime.ToString(CultureInfo.InvariantCulture)} → {ret}] {op.Description}";
    }

    private static string Encode(string s) => WebUtility.HtmlEncode(s);

    private const string Legend =
        "<p class=\"legend\"><span class=\"op linearized\">n</span> in the longest linearizable prefix (n = its place) " +
        "<span class=\"op stuck\">op</span> could not be linearized next <span class=\"op stuck deadline\">op</span> had to take effect before it returned " +
        "<span class=\"op pending\">op</span> never returned <span class=\"op\">op</span> other</p>\n";

    private const string Css = """
        .details { color: #555; }
        details.partition { margin: 12px 0; border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; }
        details.partition.illegal { border-color: #d33; }
        details.partition > summary { font-weight: bold; cursor: pointer; }
        .explain { background: #fafafa; padding: 6px 10px; margin: 8px 0; }
        .note { color: #666; font-style: italic; }
        .scroll { overflow-x: auto; border-top: 1px solid #eee; padding-top: 4px; }
        .timeline { position: relative; }
        .label { position: absolute; left: 0; width: 84px; height: 24px; line-height: 24px; color: #555; font-size: 12px; }
        .op { position: absolute; height: 22px; line-height: 22px; font-size: 11px; white-space: nowrap; overflow: hidden;
              text-overflow: ellipsis; background: #d9dde3; border: 1px solid #9aa3ad; border-radius: 3px; padding: 0 3px; box-sizing: border-box; }
        .legend .op { position: static; display: inline-block; margin: 0 4px 0 12px; }
        .op.linearized { background: #bfe8bf; border-color: #4a9a4a; }
        .op.stuck { background: #f7b9b9; border-color: #c22; }
        .op.deadline { border: 3px solid #a00; }
        .op.pending { background-image: repeating-linear-gradient(45deg, transparent 0 6px, rgba(0,0,0,.08) 6px 12px); border-right-style: dashed; }
        .n { font-weight: bold; }
        """;
}
