using System.Globalization;
using System.Net;
using System.Text;
using Flotilla.MapReduce.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Flotilla.MapReduce.Coordinator;

/// <summary>
/// The coordinator's job page (<c>/</c> on <see cref="CoordinatorOptions.PagePort"/>, HTTP/1.1, loopback): a progress
/// bar, every map and reduce task with its state, workers, attempts and duration, stragglers and backup copies, the
/// counters, and once the job is over its summary. Plain server-rendered HTML in the look every Flotilla page shares
/// (src/Shared/flotilla.css); while the job runs it reloads itself every 2 s (a meta refresh: no script at all).
/// Read-only; it shows task indexes and worker ids, not input paths.
/// </summary>
internal static class JobPage
{
    private static readonly string Css = ReadCss();

    public static void Map(WebApplication app, CoordinatorState state, DateTimeOffset started)
    {
        app.MapGet("/", (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store";
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'";
            return Results.Text(Render(state.View(), DateTimeOffset.UtcNow - started), "text/html; charset=utf-8");
        });
    }

    internal static string Render((JobProgress Progress, IReadOnlyList<TaskView> Tasks, JobCounters Counters, string? FailureReason) view, TimeSpan elapsed)
    {
        var (p, tasks, c, failure) = view;
        var running = p.State == JobState.Running;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (running) html.Append("<meta http-equiv=\"refresh\" content=\"2\">");
        html.Append("<title>MapReduce job — ").Append(p.State).Append("</title><style>").Append(Css).Append("</style></head><body>\n");
        html.Append("<h1>MapReduce job</h1>\n");
        var done = p.MapsDone + p.ReducesDone;
        var total = p.MapsTotal + p.ReducesTotal;
        var (bannerClass, verdict) = p.State switch
        {
            JobState.Succeeded => ("ok", $"Succeeded in {Seconds(elapsed)}"),
            JobState.Failed => ("bad", $"Failed after {Seconds(elapsed)}: {failure}"),
            _ => ("warn", $"Running for {Seconds(elapsed)}"),
        };
        html.Append("<p class=\"banner ").Append(bannerClass).Append("\" role=\"status\">").Append(E(verdict)).Append("</p>\n");
        html.Append("<p><label for=\"progress\">Tasks done: ").Append(done).Append(" of ").Append(total).Append("</label> ")
            .Append("<progress id=\"progress\" max=\"").Append(total).Append("\" value=\"").Append(done).Append("\">")
            .Append(done).Append(" of ").Append(total).Append("</progress></p>\n");
        html.Append("<p>Map ").Append(p.MapsDone).Append('/').Append(p.MapsTotal).Append(" (").Append(p.MapsRunning).Append(" running) · reduce ")
            .Append(p.ReducesDone).Append('/').Append(p.ReducesTotal).Append(" (").Append(p.ReducesRunning).Append(" running)</p>\n");

        html.Append("<table class=\"grid\" id=\"counters\"><caption>Counters").Append(running ? " (so far)" : "").Append("</caption><tbody>");
        Row(html, "Map records in / out", $"{c.Map.RecordsIn} / {c.Map.RecordsOut}");
        Row(html, "Map bytes in / out", $"{c.Map.BytesIn} / {c.Map.BytesOut}");
        Row(html, "Reduce records in / keys out", $"{c.Reduce.RecordsIn} / {c.Reduce.RecordsOut}");
        Row(html, "Reduce bytes in / out", $"{c.Reduce.BytesIn} / {c.Reduce.BytesOut}");
        Row(html, "Retries (timed out, failed)", $"{c.Retries} ({c.TimedOutAttempts}, {c.FailedAttempts})");
        Row(html, "Backup attempts", c.BackupAttempts.ToString(CultureInfo.InvariantCulture));
        Row(html, "Maps re-executed (output lost)", c.MapReexecutions.ToString(CultureInfo.InvariantCulture));
        Row(html, "Duplicate completions ignored", c.DuplicateCompletions.ToString(CultureInfo.InvariantCulture));
        html.Append("</tbody></table>\n");

        html.Append("<table class=\"grid\" id=\"tasks\"><caption>Tasks</caption><thead><tr>");
        foreach (var h in new[] { "Task", "State", "Worker", "Attempts", "Duration", "Notes" }) html.Append("<th scope=\"col\">").Append(h).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var t in tasks)
        {
            var notes = new List<string>();
            if (t.Straggler) notes.Add("straggler");
            if (t.BackupRunning) notes.Add("backup copy running");
            html.Append("<tr data-task=\"").Append(t.Kind).Append('-').Append(t.Index).Append("\"><th scope=\"row\">").Append(t.Kind).Append(' ').Append(t.Index)
                .Append("</th><td>").Append(t.State).Append("</td><td>")
                .Append(E(t.Workers.Count > 0 ? string.Join(", ", t.Workers) : t.CompletedBy ?? "—")).Append("</td><td class=\"num\">").Append(t.Attempts)
                .Append("</td><td class=\"num\">").Append(t.Duration is { } d ? Seconds(d) : "—").Append("</td><td>")
                .Append(notes.Count == 0 ? "" : $"<span class=\"pill warn\">{string.Join("</span> <span class=\"pill warn\">", notes)}</span>")
                .Append("</td></tr>");
        }
        html.Append("</tbody></table>\n</body></html>\n");
        return html.ToString();
    }

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th scope=\"row\">").Append(E(name)).Append("</th><td class=\"num\">").Append(E(value)).Append("</td></tr>");

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string ReadCss()
    {
        using var stream = typeof(JobPage).Assembly.GetManifestResourceStream("Flotilla.Look.css")
            ?? throw new InvalidOperationException("the embedded Flotilla.Look.css is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
