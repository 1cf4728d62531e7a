using System.Text.RegularExpressions;
using Flotilla.Kv.Client;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Flotilla.Server.Tests.WebConsole;

/// <summary>
/// The web console in a real browser (headless Chromium through Playwright) against a live 3-process cluster: the
/// member table lists every member and the page names the leader; after the leader is killed with SIGKILL the page,
/// polling by itself, names a new one. With <c>FLOTILLA_CONSOLE_SCREENSHOTS=DIR</c> it saves the screenshots that
/// docs/console.md shows.
/// </summary>
public class ConsoleBrowserTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [BrowserFact]
    public async Task ThePageShowsTheMembersAndFollowsTheLeaderWhenItIsKilled()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            int? leader = null;
            Assert.True(await ClusterFixture.EventuallyAsync(async () => (leader = await ClusterFixture.LeaderAsync(cluster)) is not null, Deadline), "no leader");
            await WriteSomeAsync(cluster, 50);
            // Watch from a member that survives: the killed leader's own console goes down with it.
            var watcher = cluster.MemberIds.First(id => id != leader);

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await HeadlessChromium.LaunchAsync(playwright);
            var page = await HeadlessChromium.NewPageAsync(browser, 1280, 1000, Deadline);
            await page.GotoAsync(cluster.ConsoleAddresses[watcher] + "/");

            await Expect(page.Locator("#member-table tbody tr")).ToHaveCountAsync(3);
            await Expect(page.Locator("#member-table caption")).ToHaveTextAsync("Members");
            await Expect(page.Locator("#leader")).ToHaveAttributeAsync("aria-live", "polite");
            // An election may move leadership between reading the status and loading the page (seen under load): wait
            // until the page names a leader, then go on with the one it names, which must also be the status's.
            await Expect(page.Locator("#leader")).ToContainTextAsync(new Regex(@"Leader: n\d"));
            var shown = int.Parse(Regex.Match(await page.Locator("#leader").InnerTextAsync(), @"Leader: n(\d+)").Groups[1].Value);
            if (shown != leader)
            {
                Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) == shown, Deadline),
                    $"the page names n{shown} as leader, the members do not");
                leader = shown;
                if (watcher == leader)
                {
                    watcher = cluster.MemberIds.First(id => id != leader);
                    await page.GotoAsync(cluster.ConsoleAddresses[watcher] + "/");
                }
            }
            await Expect(page.Locator("#leader")).ToContainTextAsync($"Leader: n{leader}");
            await Expect(page.Locator($"#member-table tr[data-member=\"{leader}\"] td.role")).ToHaveTextAsync("Leader");
            // The charts are the leader's (it serves the requests), fetched over the peer transport.
            await Expect(page.Locator("#charts-from")).ToHaveTextAsync($"measured on the leader, n{leader}");
            foreach (var chart in new[] { "commits", "put", "get", "fsync", "elections" })
                await Expect(page.Locator($"#chart-{chart} svg")).ToHaveAttributeAsync("role", "img");
            await HeadlessChromium.ScreenshotAsync(page, "console-cluster.png");

            cluster.Kill(leader!.Value);
            // No reload: the page's own polling must bring the new leader in, and show the dead one as unreachable.
            await Expect(page.Locator("#leader")).ToContainTextAsync(new Regex($"Leader: n(?!{leader}\\b)\\d"));
            await Expect(page.Locator($"#member-table tr[data-member=\"{leader}\"]")).ToHaveClassAsync("down");
            await WriteSomeAsync(cluster, 30);
            await HeadlessChromium.ScreenshotAsync(page, "console-after-leader-killed.png");

            // With JavaScript off the same page is complete, just not live.
            await using var noScript = await browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
            var still = await noScript.NewPageAsync();
            await still.GotoAsync(cluster.ConsoleAddresses[watcher] + "/");
            await Expect(still.Locator("#member-table tbody tr")).ToHaveCountAsync(3);
            await Expect(still.Locator("#leader")).ToContainTextAsync("Leader: n");
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }

    private static async Task WriteSomeAsync(Flotilla.Server.Cluster.LocalCluster cluster, int count)
    {
        using var channel = new GrpcKvChannel(cluster.File.Endpoints.Select(GrpcKvChannel.ParseEndpoint).ToList());
        var client = new KvClient(channel, TimeProvider.System, new Random(7), new KvClientOptions { OperationTimeout = TimeSpan.FromSeconds(20) });
        for (var i = 0; i < count; i++)
        {
            var key = $"k{i % 5}";
            var got = await client.GetAsync(key);
            await client.PutAsync(key, $"v{i}", got.IsOk ? got.Version : 0);
        }
    }
}
