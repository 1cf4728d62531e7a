using System.Globalization;
using System.Text;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// The console's line charts, drawn on the server as inline SVG (no charting library, nothing to load): the page shows
/// them with JavaScript off, and the poll swaps in fresh ones. Each chart is a <c>figure</c> with a caption, and its
/// SVG has <c>role="img"</c> and a label that says the latest and highest values, for screen readers.
/// </summary>
internal static class ConsoleCharts
{
    private const int Width = 360, Height = 120, Left = 40, Bottom = 16, Top = 6;

    private sealed record Series(string Name, string Color, string? Dash, Func<ConsolePoint, double?> Value);

    private sealed record Chart(string Id, string Title, string Unit, IReadOnlyList<Series> Lines);

    private static readonly Chart[] All =
    [
        new("commits", "Commits per second", "/s", [new("commits/s", "#0b5fff", null, p => p.Commits)]),
        new("put", "Put latency", "ms", [new("p50", "#0b5fff", null, p => p.PutP50), new("p99", "#c2410c", "4 3", p => p.PutP99)]),
        new("get", "Get latency", "ms", [new("p50", "#0b5fff", null, p => p.GetP50), new("p99", "#c2410c", "4 3", p => p.GetP99)]),
        new("fsync", "Fsync latency", "ms", [new("p50", "#0b5fff", null, p => p.FsyncP50), new("p99", "#c2410c", "4 3", p => p.FsyncP99)]),
        new("elections", "Elections (term changes)", "", [new("elections", "#8a1111", null, p => p.Elections)]),
    ];

    public static void Render(StringBuilder html, IReadOnlyList<ConsolePoint> points)
    {
        foreach (var chart in All) RenderOne(html, chart, points);
    }

    private static void RenderOne(StringBuilder html, Chart chart, IReadOnlyList<ConsolePoint> points)
    {
        var max = 0.0;
        foreach (var line in chart.Lines)
            foreach (var p in points)
                if (line.Value(p) is { } v) max = Math.Max(max, v);
        var top = max <= 0 ? 1 : NiceCeiling(max);
        var summary = new StringBuilder();
        foreach (var line in chart.Lines)
        {
            var values = points.Select(line.Value).Where(v => v is not null).Select(v => v!.Value).ToList();
            summary.Append(summary.Length == 0 ? "" : "; ").Append(line.Name).Append(": ")
                .Append(values.Count == 0 ? "no data" : $"latest {N(values[^1])}{chart.Unit}, highest {N(values.Max())}{chart.Unit}");
        }
        if (chart.Id == "elections") summary.Append($"; {N(points.Sum(p => p.Elections))} in the window");
        var label = $"{chart.Title}, last {Minutes(points.Count)}: {summary}";

        html.Append("<figure class=\"chart\" id=\"chart-").Append(chart.Id).Append("\"><figcaption>").Append(E(chart.Title))
            .Append(chart.Unit is "ms" ? " (ms)" : "").Append("</figcaption>");
        html.Append("<svg viewBox=\"0 0 ").Append(Width).Append(' ').Append(Height).Append("\" role=\"img\" aria-label=\"")
            .Append(E(label)).Append("\"><title>").Append(E(label)).Append("</title>");
        // Axes and the scale's top value.
        html.Append("<line x1=\"").Append(Left).Append("\" y1=\"").Append(Height - Bottom).Append("\" x2=\"").Append(Width)
            .Append("\" y2=\"").Append(Height - Bottom).Append("\" stroke=\"#d1d9e0\"/>");
        html.Append("<line x1=\"").Append(Left).Append("\" y1=\"").Append(Top).Append("\" x2=\"").Append(Left).Append("\" y2=\"")
            .Append(Height - Bottom).Append("\" stroke=\"#d1d9e0\"/>");
        html.Append("<text x=\"").Append(Left - 4).Append("\" y=\"").Append(Top + 8).Append("\" font-size=\"10\" text-anchor=\"end\" fill=\"#59636e\">")
            .Append(N(top)).Append("</text><text x=\"").Append(Left - 4).Append("\" y=\"").Append(Height - Bottom)
            .Append("\" font-size=\"10\" text-anchor=\"end\" fill=\"#59636e\">0</text>");
        html.Append("<text x=\"").Append(Left).Append("\" y=\"").Append(Height - 3).Append("\" font-size=\"10\" fill=\"#59636e\">")
            .Append(Minutes(ConsoleMetrics.Points)).Append(" ago</text><text x=\"").Append(Width).Append("\" y=\"").Append(Height - 3)
            .Append("\" font-size=\"10\" text-anchor=\"end\" fill=\"#59636e\">now</text>");
        foreach (var line in chart.Lines) RenderLine(html, line, points, top);
        html.Append("</svg><div class=\"legend\">");
        foreach (var line in chart.Lines)
            html.Append("<span style=\"color:").Append(line.Color).Append("\">").Append(line.Dash is null ? "━" : "╍").Append("</span> ")
                .Append(E(line.Name)).Append(' ');
        html.Append("</div></figure>\n");
    }

    /// <summary>One polyline per run of measured seconds (a second with no measurement breaks the line). The newest
    /// point is at the right edge; the x axis always spans <see cref="ConsoleMetrics.Points"/> seconds.</summary>
    private static void RenderLine(StringBuilder html, Series line, IReadOnlyList<ConsolePoint> points, double top)
    {
        var run = new StringBuilder();
        void Flush()
        {
            if (run.Length == 0) return;
            html.Append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").Append(line.Color).Append('"')
                .Append(line.Dash is null ? "" : $" stroke-dasharray=\"{line.Dash}\"").Append(" points=\"").Append(run).Append("\"/>");
            run.Clear();
        }
        var plotWidth = Width - Left;
        var plotHeight = Height - Bottom - Top;
        for (var i = 0; i < points.Count; i++)
        {
            if (line.Value(points[i]) is not { } v) { Flush(); continue; }
            var x = Left + plotWidth * (ConsoleMetrics.Points - points.Count + i + 1) / (double)ConsoleMetrics.Points;
            var y = Top + plotHeight * (1 - Math.Min(v, top) / top);
            run.Append(N(x)).Append(',').Append(N(y)).Append(' ');
        }
        Flush();
    }

    /// <summary>1, 2 or 5 times a power of ten at or above <paramref name="value"/>: a round top for the scale.</summary>
    internal static double NiceCeiling(double value)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2, 5, 10 })
            if (step * power >= value) return step * power;
        return 10 * power;
    }

    private static string Minutes(int seconds) => seconds >= 120 ? $"{seconds / 60} min" : $"{seconds} s";

    private static string N(double v) => Math.Round(v, v >= 100 ? 0 : 2).ToString(CultureInfo.InvariantCulture);

    private static string E(string s) => System.Net.WebUtility.HtmlEncode(s);
}
