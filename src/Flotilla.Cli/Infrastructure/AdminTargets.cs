using Flotilla.Kv.Client;
using Flotilla.Server.Cluster;
using Flotilla.Transport.Grpc;

namespace Flotilla.Cli.Infrastructure;

/// <summary>
/// Where <c>cluster status|stop</c> find the members' Admin service and its token. From a <c>cluster.json</c>: each
/// member's admin address and the token file next to it (what <c>flotilla cluster start</c> writes). From a list of
/// endpoints: those endpoints (admin addresses) and <c>--admin-token-file</c>.
/// </summary>
public static class AdminTargets
{
    public static (IReadOnlyList<Uri> Endpoints, string? Token) Resolve(string cluster, string? tokenFile)
    {
        var text = cluster.Trim();
        string? token = null;
        IReadOnlyList<Uri> endpoints;
        if (File.Exists(text) && TryLoad(text) is { } file && file.Members.All(m => m.AdminAddress is not null))
        {
            endpoints = file.Members.Select(m => new Uri(m.AdminAddress!)).ToList();
            if (tokenFile is null && file.AdminTokenFile is { } name) tokenFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(text))!, name);
        }
        else
        {
            endpoints = ClusterEndpoints.Parse(text);
        }
        if (tokenFile is not null)
        {
            try { token = SecretFile.ReadText(tokenFile); }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new CliException($"admin token: {e.Message}", ExitCodes.BadInput, e);
            }
        }
        return (endpoints, token);
    }

    private static ClusterFile? TryLoad(string path)
    {
        try { return ClusterFile.Load(path); }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException) { return null; }
    }

    /// <summary>A line for a member that refused the call, so "unreachable" is not mistaken for a token problem.</summary>
    public static string? Explain(Grpc.Core.StatusCode? error) => error switch
    {
        Grpc.Core.StatusCode.Unauthenticated or Grpc.Core.StatusCode.PermissionDenied => "refused: the admin token is missing or wrong (--admin-token-file)",
        Grpc.Core.StatusCode.Unimplemented => "no Admin service on this port (use the member's --admin-listen address)",
        _ => null,
    };
}
