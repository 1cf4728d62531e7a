using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Flotilla.Server.WebConsole;

/// <summary>
/// The console's HTTP face, on the console listener only (HTTP/1.1, <c>--console ADDR</c>): <c>/</c> the page,
/// <c>/console/state.json</c> what the page polls, <c>/console/console.js</c> and <c>/console/flotilla.css</c> its
/// script and the shared look. Read-only GETs, no admin token needed, and nothing secret in them (no tokens, no
/// paths). On any other port (the gRPC ports) these paths answer 404, as if they were not there.
/// </summary>
internal static class ConsoleEndpoints
{
    private const string ConsoleConnection = "flotilla.console-connection";

    /// <summary>Kestrel connection middleware for the console listener: tags its connections.</summary>
    public static ConnectionDelegate MarkConsoleConnections(ConnectionDelegate next) => connection =>
    {
        connection.Items[ConsoleConnection] = true;
        return next(connection);
    };

    public static void Map(IEndpointRouteBuilder app, ConsoleSnapshotSource source)
    {
        app.MapGet("/", (HttpContext http) => Serve(http, "text/html; charset=utf-8", async () =>
            System.Text.Encoding.UTF8.GetBytes(ConsolePage.Render(await source.TakeAsync(http.RequestAborted)))));
        app.MapGet("/console/state.json", (HttpContext http) => Serve(http, "application/json; charset=utf-8", async () =>
        {
            var snapshot = await source.TakeAsync(http.RequestAborted);
            var state = new
            {
                snapshot.Self, snapshot.Taken, snapshot.Leader, snapshot.LeaderTerm, snapshot.Members, snapshot.Points, snapshot.Shards,
                Html = ConsolePage.Fragments(snapshot),
            };
            return JsonSerializer.SerializeToUtf8Bytes(state, MemberStatus.Json);
        }));
        app.MapGet("/console/console.js", (HttpContext http) => Serve(http, "text/javascript; charset=utf-8", ConsoleAssets.ScriptAsync));
        app.MapGet("/console/flotilla.css", (HttpContext http) => Serve(http, "text/css; charset=utf-8", ConsoleAssets.CssAsync));
    }

    private static async Task Serve(HttpContext http, string type, Func<Task<byte[]>> body)
    {
        if (http.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ConsoleConnection) != true)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
        headers["Referrer-Policy"] = "no-referrer";
        byte[] bytes;
        try { bytes = await body(); }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested) { return; }
        http.Response.ContentType = type;
        http.Response.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes, http.RequestAborted);
    }
}

/// <summary>The console's static files, embedded in the assembly (works offline, nothing to install).</summary>
internal static class ConsoleAssets
{
    public static byte[] Script { get; } = Read("Flotilla.Console.console.js");

    public static byte[] Css { get; } = Read("Flotilla.Look.css");

    public static Task<byte[]> ScriptAsync() => Task.FromResult(Script);

    public static Task<byte[]> CssAsync() => Task.FromResult(Css);

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the embedded {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
