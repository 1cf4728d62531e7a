using System.Globalization;
using System.Net;
using System.Text;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// The console's HTML, rendered on the server: the whole page (readable with JavaScript off) and the fragments the
/// page's script swaps in on each poll (<see cref="Fragments"/>), so there is one renderer, not one in C# and one in JS.
/// Accessibility: tables have captions and <c>th scope</c>; the leader line is an <c>aria-live</c> region (a screen
/// reader announces a new leader); charts are labelled figures.
/// </summary>
internal static class ConsolePage
{
    public static string Render(ConsoleSnapshot s, string? cssUrl = "console/flotilla.css", string? scriptUrl = "console/console.js")
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">")
            .Append("<title>Flotilla console — n").Append(s.Self).Append("</title>");
        if (cssUrl is not null) html.Append("<link rel=\"stylesheet\" href=\"").Append(cssUrl).Append("\">");
        html.Append("</head><body>\n<header><h1>Flotilla cluster</h1><p class=\"muted\">Console of member n").Append(s.Self)
            .Append(" · read-only · <span id=\"updated\">taken ").Append(s.Taken.ToString("HH:mm:ss", CultureInfo.InvariantCulture))
            .Append(" UTC</span></p></header>\n<main>\n");
        html.Append("<div id=\"leader\" role=\"status\" aria-live=\"polite\" aria-atomic=\"true\">");
        LeaderLine(html, s);
        html.Append("</div>\n");
        html.Append("<div id=\"members\">");
        Members(html, s);
        html.Append("</div>\n<div id=\"shards\">");
        Shards(html, s.Shards);
        html.Append("</div>\n<h2 id=\"charts-heading\">Last minutes, <span id=\"charts-from\">").Append(ChartsFrom(s)).Append("</span></h2>\n")
            .Append("<div id=\"charts\" class=\"charts\" aria-labelledby=\"charts-heading\">");
        ConsoleCharts.Render(html, s.Points);
        html.Append("</div>\n<noscript><p class=\"note\">JavaScript is off: reload the page for fresh numbers.</p></noscript>\n</main>\n")
            .Append("<footer>The same numbers feed <code>/metrics</code> (Prometheus) where the server serves it. ")
            .Append("JSON: <a href=\"console/state.json\">console/state.json</a>.</footer>\n");
        if (scriptUrl is not null) html.Append("<script src=\"").Append(scriptUrl).Append("\" defer></script>");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>The parts of the page a poll replaces, by element id.</summary>
    public static IReadOnlyDictionary<string, string> Fragments(ConsoleSnapshot s)
    {
        string Of(Action<StringBuilder> render)
        {
            var html = new StringBuilder();
            render(html);
            return html.ToString();
        }
        return new Dictionary<string, string>
        {
            ["leader"] = Of(h => LeaderLine(h, s)),
            ["members"] = Of(h => Members(h, s)),
            ["shards"] = Of(h => Shards(h, s.Shards)),
            ["charts"] = Of(h => ConsoleCharts.Render(h, s.Points)),
            ["charts-from"] = ChartsFrom(s),
            ["updated"] = "taken " + s.Taken.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC",
        };
    }

    private static string ChartsFrom(ConsoleSnapshot s) =>
        s.ChartsFrom == s.Leader ? $"measured on the leader, n{s.ChartsFrom}" : $"measured on n{s.ChartsFrom} (this member)";

    private static void LeaderLine(StringBuilder html, ConsoleSnapshot s)
    {
        var reachable = s.Members.Count(m => m.Status is not null);
        if (s.Leader is { } leader)
            html.Append("<p class=\"banner ok\">Leader: <strong>n").Append(leader).Append("</strong> (term ").Append(s.LeaderTerm)
                .Append(") · ").Append(reachable).Append(" of ").Append(s.Members.Count).Append(" members answering</p>");
        else
            html.Append("<p class=\"banner warn\">No leader known (an election may be under way) · ").Append(reachable).Append(" of ")
                .Append(s.Members.Count).Append(" members answering</p>");
    }

    private static void Members(StringBuilder html, ConsoleSnapshot s)
    {
        // A sharded store's members run many Raft groups: the row shows the shard controller's group.
        html.Append("<table class=\"grid\" id=\"member-table\"><caption>Members").Append(s.Shards is null ? "" : " (the shard controller's Raft group)")
            .Append("</caption><thead><tr>");
        foreach (var h in new[] { "Member", "Role", "Term", "Commit index", "Applied index", "Last index", "Replication lag",
                     "Log on disk", "Snapshot index", "Snapshots", "Uptime", "Reachable" })
            html.Append("<th scope=\"col\">").Append(h).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var m in s.Members)
        {
            var st = m.Status;
            var rowClass = st?.Role == "Leader" && m.Id == s.Leader ? "leader" : m.Reachable ? "" : "down";
            html.Append("<tr data-member=\"").Append(m.Id).Append('"').Append(rowClass.Length > 0 ? $" class=\"{rowClass}\"" : "").Append('>');
            html.Append("<th scope=\"row\">n").Append(m.Id).Append(m.Id == s.Self ? " (this one)" : "").Append("</th>");
            html.Append("<td class=\"role\">").Append(E(st?.Role ?? "—")).Append("</td>");
            Num(html, st?.Term);
            Num(html, st?.CommitIndex);
            Num(html, st?.AppliedIndex);
            Num(html, st?.LastIndex);
            html.Append("<td class=\"num\">").Append(st?.Role == "Leader" ? "—" : m.Lag is { } lag ? (lag == 1 ? "1 entry" : $"{lag} entries") : "?").Append("</td>");
            html.Append("<td class=\"num\">").Append(st is null ? "—" : Bytes(st.LogBytes)).Append("</td>");
            Num(html, st?.SnapshotIndex);
            html.Append("<td class=\"num\">").Append(st is null ? "—" : $"{st.SnapshotsTaken}" + (st.LastSnapshotBytes > 0 ? $" (last {Bytes(st.LastSnapshotBytes)})" : "")).Append("</td>");
            html.Append("<td class=\"num\">").Append(st is null ? "—" : Duration(st.UptimeSeconds)).Append("</td>");
            html.Append("<td>").Append(m.Reachable && m.Problem is null ? "<span class=\"pill ok\">yes</span>"
                : m.Reachable ? $"<span class=\"pill warn\">yes</span> {E(m.Problem!)}"
                : $"<span class=\"pill bad\">no</span> {E(m.Problem ?? "")}").Append("</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    private static void Shards(StringBuilder html, ShardView? view)
    {
        if (view is null) return;
        html.Append("<h2>Shards</h2><p>Configuration <strong>").Append(view.ConfigNum).Append("</strong> · groups: ")
            .Append(view.Groups.Count == 0 ? "none joined yet" : string.Join(", ", view.Groups)).Append("</p>");
        html.Append("<table class=\"grid\" id=\"shard-table\"><caption>Shard map (controller's latest configuration)</caption><thead><tr>")
            .Append("<th scope=\"col\">Shard</th><th scope=\"col\">Group</th><th scope=\"col\">State here</th><th scope=\"col\">Group's configuration</th></tr></thead><tbody>");
        foreach (var r in view.Shards)
            html.Append("<tr><th scope=\"row\">").Append(r.Shard).Append("</th><td class=\"num\">").Append(r.Gid == 0 ? "—" : r.Gid)
                .Append("</td><td>").Append(E(r.State)).Append("</td><td class=\"num\">").Append(r.GroupConfig?.ToString(CultureInfo.InvariantCulture) ?? "—").Append("</td></tr>");
        html.Append("</tbody></table>");
        html.Append("<table class=\"grid\" id=\"move-table\"><caption>Moves in progress</caption><thead><tr>")
            .Append("<th scope=\"col\">Shard</th><th scope=\"col\">From group</th><th scope=\"col\">To group</th><th scope=\"col\">State</th><th scope=\"col\">Configuration</th></tr></thead><tbody>");
        if (view.Moves.Count == 0) html.Append("<tr><td colspan=\"5\">none: every shard is settled</td></tr>");
        foreach (var m in view.Moves)
            html.Append("<tr><th scope=\"row\">").Append(m.Shard).Append("</th><td class=\"num\">").Append(m.From).Append("</td><td class=\"num\">")
                .Append(m.To).Append("</td><td>").Append(E(m.State)).Append("</td><td class=\"num\">").Append(m.Config).Append("</td></tr>");
        html.Append("</tbody></table>");
    }

    private static void Num(StringBuilder html, ulong? value) =>
        html.Append("<td class=\"num\">").Append(value?.ToString(CultureInfo.InvariantCulture) ?? "—").Append("</td>");

    internal static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB",
    };

    internal static string Duration(double seconds) => seconds switch
    {
        < 60 => $"{seconds:0} s",
        < 3600 => $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s",
        _ => $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60)} min",
    };

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
