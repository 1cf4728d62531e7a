using System.Net;
using System.Text.Json;

namespace Flotilla.Server.Tests.WebConsole;

/// <summary>The console over plain HTTP (no browser) on a live 3-process cluster: every member serves the page and
/// its JSON without the admin token, shows all three members from any of them, never shows the token or the data
/// directories' paths, and the gRPC client port does not serve it.</summary>
public class ConsoleHttpTests
{
    [Fact]
    public async Task EveryMemberServesTheWholeClusterWithoutTokenOrPaths()
    {
        var (cluster, directory) = await ClusterFixture.StartAsync(3);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.True(await ClusterFixture.EventuallyAsync(async () => await ClusterFixture.LeaderAsync(cluster) is not null, TimeSpan.FromSeconds(30)));
            foreach (var id in cluster.MemberIds)
            {
                var root = cluster.ConsoleAddresses[id];
                JsonElement state = default;
                // Until this member has heard from a leader its view may lack one: wait for it, with a deadline.
                Assert.True(await ClusterFixture.EventuallyAsync(async () =>
                {
                    state = JsonDocument.Parse(await http.GetStringAsync(root + "/console/state.json")).RootElement;
                    return state.GetProperty("leader").ValueKind == JsonValueKind.Number
                           && state.GetProperty("members").EnumerateArray().All(m => m.GetProperty("reachable").GetBoolean());
                }, TimeSpan.FromSeconds(20)), $"n{id}'s console never showed a leader with every member reachable");
                Assert.Equal(id, state.GetProperty("self").GetInt32());
                Assert.Equal([1, 2, 3], state.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("id").GetInt32()));
                Assert.Contains("Leader: <strong>n", state.GetProperty("html").GetProperty("leader").GetString());

                var page = await http.GetAsync(root + "/");
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
                var body = await page.Content.ReadAsStringAsync();
                Assert.Contains("<caption>Members</caption>", body);
                Assert.Contains("aria-live=\"polite\"", body);
                foreach (var text in new[] { body, state.GetRawText(), await http.GetStringAsync(root + "/console/console.js") })
                {
                    Assert.DoesNotContain(cluster.AdminToken, text);
                    Assert.DoesNotContain(directory, text);
                }
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(root + "/console/flotilla.css")).StatusCode);
            }

            // The client port (gRPC, HTTP/2 without TLS) does not answer the console's paths.
            using var h2 = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
            Assert.Equal(HttpStatusCode.NotFound, (await h2.GetAsync(cluster.Addresses[1] + "/console/state.json")).StatusCode);
        }
        finally
        {
            await ClusterFixture.StopAsync(cluster, directory);
        }
    }
}
