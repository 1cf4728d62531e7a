using Flotilla.Linearizability.Checking;
using Flotilla.Linearizability.Kv;
using Flotilla.Linearizability.Reporting;
using static Flotilla.Linearizability.Tests.Support.Kv;

namespace Flotilla.Linearizability.Tests;

public class ReportTests
{
    private static readonly Operation<KvInput, KvOutput>[] StaleRead =
    [
        Put(1, 0, 10, "k", "a", 0),
        Put(1, 20, 30, "k", "b", 1),
        Get(2, 40, 50, "k", "a", 1),
        Put(7, 5, null, "k", "never", 9),
        Put(3, 0, 10, "fine", "x", 0),
    ];

    [Fact]
    public void LinearizableHistorySummarizesAsLinearizable()
    {
        var report = VersionedKv.CheckAndReport([Put(1, 0, 10, "k", "a", 0)]);
        Assert.Equal("linearizable", report.Summary());
    }

    [Fact]
    public void FailingKeyIsNamedWithTheOperationThatCouldNotBeLinearized()
    {
        var report = VersionedKv.CheckAndReport(StaleRead);
        Assert.Equal(
            "NOT linearizable (key \"k\": #2 client 2 [40, 50] get(\"k\") → (\"a\", v1) cannot be linearized after 3 of 4 operations, in state (\"b\", v2))",
            report.Summary());
        var text = report.Text();
        Assert.Contains("cannot follow: #2 client 2", text);
        Assert.Contains("had to take effect before it returned", text);
    }

    [Fact]
    public void TimedOutCheckSummarizesAsUnknown()
    {
        var result = new CheckResult(CheckOutcome.Unknown,
            [new PartitionResult("k", CheckOutcome.Unknown, [0], [], "absent", [], null, 0, UnknownCause.TimedOut)], TimeSpan.FromSeconds(30.2), TimeSpan.FromSeconds(30));
        var report = new HistoryReport("versioned-kv", [new OperationView(0, 1, 0, 1, "get(\"k\") → ErrNoKey", "k")], result);
        Assert.Equal("unknown (timed out after 30 s; 1 of 1 key(s) unfinished)", report.Summary());
    }

    [Fact]
    public void HtmlPageHighlightsTheFailingOperationsAndNeedsNoNetwork()
    {
        var html = HistoryHtml.Render(VersionedKv.CheckAndReport(StaleRead));

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("NOT linearizable", html);
        // The stale read is drawn as a stuck bar, and explained.
        Assert.Contains("class=\"op stuck deadline\"", html);
        Assert.Contains("get(&quot;k&quot;) → (&quot;a&quot;, v1)", html);
        Assert.Contains("Longest linearizable prefix: <b>3</b> of 4", html);
        // The never-returned op is drawn as pending; the passing key is there too.
        Assert.Contains("op linearized pending", html);
        Assert.Contains("key &quot;fine&quot; — linearizable", html);
        // Self-contained: no scripts, stylesheets or images fetched from anywhere.
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("href=", html);
        Assert.DoesNotContain("url(", html);
    }

    [Fact]
    public void HtmlOfALargeFailingKeyShowsAWindowThatIncludesTheFailure()
    {
        var ops = new List<Operation<KvInput, KvOutput>> { Put(1, 0, 1, "k", "v0", 0) };
        for (var i = 1; i <= 1_000; i++) ops.Add(Put(1, 10L * i, 10L * i + 5, "k", $"v{i}", i));
        ops.Add(Get(2, 20_000, 20_010, "k", "v3", 4)); // long stale
        var report = VersionedKv.CheckAndReport(ops);
        var html = HistoryHtml.Render(report);
        var shown = System.Text.RegularExpressions.Regex.Match(html, "Showing (\\d+) of 1002 operations, around the failure.");
        Assert.True(shown.Success, "the page should say it shows a window around the failure");
        Assert.InRange(int.Parse(shown.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 2, 40);
        // The stale read and the last write it missed are both drawn.
        Assert.Contains("title=\"#1001 client 2", html);
        Assert.Contains("title=\"#1000 client 1", html);
    }
}
