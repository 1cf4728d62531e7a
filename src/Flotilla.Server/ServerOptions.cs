using System.Net;
using Flotilla.Runtime;

namespace Flotilla.Server;

/// <summary>What one <c>flotilla server</c> process is told on its command line.</summary>
public sealed record ServerOptions
{
    public required NodeId Id { get; init; }

    /// <summary>Where Kestrel listens for clients and peers (HTTP/2 cleartext).</summary>
    public required IPEndPoint Listen { get; init; }

    /// <summary>Every member of the group, this one included: id -> address ("http://127.0.0.1:7001").</summary>
    public required IReadOnlyDictionary<NodeId, Uri> Members { get; init; }

    /// <summary>Where every member takes Raft traffic over framed TCP (id -> "tcp://127.0.0.1:8001"), this one
    /// included; this node listens on its own entry. Null sends Raft traffic over gRPC on the <see cref="Members"/>
    /// addresses. Framed TCP is the faster path (see docs/transport.md): <c>flotilla cluster start</c> uses it.</summary>
    public IReadOnlyDictionary<NodeId, Uri>? PeerUrls { get; init; }

    /// <summary>With <see cref="PeerUrls"/>: where this node's framed-TCP peer listener binds.</summary>
    public IPEndPoint? PeerListen { get; init; }

    /// <summary>The group's bootstrap voters: the membership before any change, the same on every member including
    /// those added later (which replay the log from it). Null: the ids of <see cref="Members"/> (a cluster whose
    /// membership never changed). A member outside it joins (it never campaigns until a change makes it a voter).</summary>
    public IReadOnlyList<NodeId>? InitialVoters { get; init; }

    /// <summary>What an empty data directory means (docs/raft.md "Membership"): see <see cref="ServerStartMode"/>.</summary>
    public ServerStartMode StartMode { get; init; } = ServerStartMode.Legacy;

    /// <summary>The bootstrap voters in force: <see cref="InitialVoters"/>, else the ids of <see cref="Members"/>.</summary>
    public IReadOnlyList<NodeId> BootstrapVoters => InitialVoters ?? Members.Keys.Order().ToList();

    /// <summary>True when this server is not a bootstrap voter: it starts as a non-member that only learns from the
    /// leader until a committed change makes it a learner, then a voter.</summary>
    public bool Joins => !BootstrapVoters.Contains(Id);

    /// <summary>The node's durable directory (WAL, snapshots).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The service snapshots its state when Raft's persisted bytes pass this; null never snapshots.</summary>
    public long? SnapshotThresholdBytes { get; init; } = 8 << 20;

    /// <summary>Where to serve Prometheus metrics over HTTP/1.1 (<c>/metrics</c>); null serves none.</summary>
    public IPEndPoint? MetricsListen { get; init; }

    /// <summary>Where to serve the read-only web console over HTTP/1.1 (docs/console.md); null serves none. The client
    /// and admin ports speak HTTP/2 only (gRPC without TLS), which browsers do not, hence a port of its own.</summary>
    public IPEndPoint? ConsoleListen { get; init; }

    /// <summary>Raft tick; elections time out after 40–80 ticks, heartbeats every 10.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The Raft group the KV service runs in (one group per process for now).</summary>
    public string GroupId { get; init; } = "kv";

    /// <summary>Where gets are answered (<c>--reads</c>): leader ReadIndex (default), the leader's lease, or any member.</summary>
    public Flotilla.Raft.ReadMode Reads { get; init; } = Flotilla.Raft.ReadMode.Leader;

    /// <summary>The clock drift bound the read lease is shortened by (<c>--max-clock-drift</c>; lease reads only).</summary>
    public TimeSpan MaxClockDrift { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The Raft options of the member's group.</summary>
    public Flotilla.Raft.RaftNodeOptions RaftOptions() => Flotilla.Raft.ReadModes.WithReads(new Flotilla.Raft.RaftNodeOptions
    {
        GroupId = GroupId,
        Voters = BootstrapVoters,
        Join = Joins,
        TickInterval = TickInterval,
        MaxClockDrift = MaxClockDrift,
    }, Reads);

    /// <summary>The cluster's id and shared secret: every peer connection proves them (docs/security.md). Required with
    /// more than one member unless <see cref="InsecurePeers"/>; a one-member server without it refuses every peer.</summary>
    public Flotilla.Transport.Grpc.ClusterCredentials? Credentials { get; init; }

    /// <summary>Accept unauthenticated peers (anything that can reach the peer port can then forge Raft messages).</summary>
    public bool InsecurePeers { get; init; }

    /// <summary>Where the Admin service (status, shutdown) listens, apart from clients; null serves it on no port of its own.</summary>
    public IPEndPoint? AdminListen { get; init; }

    /// <summary>Also serve the Admin service on the client port (<see cref="Listen"/>).</summary>
    public bool AdminOnClientPort { get; init; }

    /// <summary>The token Admin calls present (<c>authorization: Bearer TOKEN</c>); a verified client certificate
    /// (mutual TLS, <see cref="ClientTls"/>) is accepted instead.</summary>
    public string? AdminToken { get; init; }

    /// <summary>TLS on the client port (and the admin port); null serves cleartext HTTP/2.</summary>
    public Flotilla.Transport.Grpc.TlsSettings? ClientTls { get; init; }

    /// <summary>TLS on the framed-TCP peer connections (mutual); null: cleartext.</summary>
    public Flotilla.Transport.Grpc.TlsSettings? PeerTls { get; init; }

    /// <summary>Where the node, the transport (e.g. refused peer connections), Kestrel and storage trouble (a full disk)
    /// log; null: nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? Logs { get; init; }

    /// <summary>Whether the Admin service is mapped at all.</summary>
    public bool ServesAdmin => AdminListen is not null || AdminOnClientPort;

    /// <summary>What clients of the client port may cost (docs/transport.md "Limits"); the KV's by default.</summary>
    public Flotilla.Transport.Grpc.ClientPortLimits ClientLimits { get; init; } = Flotilla.Kv.KvLimits.ClientPort;

    /// <summary>Peer traffic: largest message, framed-TCP listener limits (connections, idle and first-frame timeouts).</summary>
    public Flotilla.Transport.Grpc.GrpcTransportOptions PeerTransport { get; init; } = new();

    public void Validate()
    {
        try
        {
            ClientLimits.Validate();
            PeerTransport.Validate();
        }
        catch (ArgumentOutOfRangeException e) { throw new ArgumentException($"limit {e.ParamName} is out of range", e); }
        if (!Members.ContainsKey(Id)) throw new ArgumentException($"the member list does not include this node ({Id})");
        if (InitialVoters is { } initial && (initial.Count is < 1 or > 9 || initial.Distinct().Count() != initial.Count || initial.Any(v => v.Value <= 0)))
            throw new ArgumentException("the initial voters are 1 to 9 distinct positive ids");
        if (StartMode == ServerStartMode.NewCluster && Joins)
            throw new ArgumentException($"a new cluster is started by its initial voters; {Id} is not among them (join it instead)");
        if (StartMode == ServerStartMode.Join && !Joins)
            throw new ArgumentException($"member {Id} is an initial voter; a joining member must be outside --initial-voters (a new id)");
        if (Members.Count is < 1 or > 9) throw new ArgumentException($"a group has 1 to 9 members, not {Members.Count}");
        if (SnapshotThresholdBytes is < 4096) throw new ArgumentException("the snapshot threshold must be at least 4096 bytes");
        if (PeerUrls is { } urls)
        {
            var missing = Members.Keys.Where(id => !urls.ContainsKey(id)).Select(id => id.Value.ToString()).ToList();
            if (missing.Count > 0) throw new ArgumentException($"the peer URLs do not list member(s) {string.Join(", ", missing)}");
            var extra = urls.Keys.Where(id => !Members.ContainsKey(id)).Select(id => id.Value.ToString()).ToList();
            if (extra.Count > 0) throw new ArgumentException($"the peer URLs list member(s) {string.Join(", ", extra)} that are not members");
            if (PeerListen is null) throw new ArgumentException("peer URLs need a peer listen address");
        }
        if (Members.Count > 1 && Credentials is null && !InsecurePeers)
            throw new ArgumentException("a server with peers needs the cluster secret (--cluster-secret-file FILE), or --insecure-peers to accept anyone on the peer port");
        if (ServesAdmin && AdminToken is null && ClientTls is not { RequireClientCertificate: true })
            throw new ArgumentException("the Admin service needs an admin token (--admin-token-file FILE) or mutual TLS (--tls-client-ca)");
        RaftOptions().Validate(Id); // e.g. a drift bound that leaves no lease: one line, before anything starts
    }

    /// <summary>Parses "1=127.0.0.1:7001,2=127.0.0.1:7002" (an address may carry http://).</summary>
    public static Dictionary<NodeId, Uri> ParseMembers(string text) => ParseMembers(text, "http");

    /// <summary>Parses "1=127.0.0.1:8001,2=127.0.0.1:8002" (an address may carry tcp://) into framed-TCP peer URLs.</summary>
    public static Dictionary<NodeId, Uri> ParsePeerUrls(string text)
    {
        var urls = ParseMembers(text, "tcp");
        var wrong = urls.Where(u => u.Value.Scheme != "tcp").Select(u => $"{u.Key.Value}={u.Value}").ToList();
        return wrong.Count == 0 ? urls : throw new FormatException($"peer URLs are tcp://HOST:PORT, not {string.Join(", ", wrong)}");
    }

    private static Dictionary<NodeId, Uri> ParseMembers(string text, string defaultScheme)
    {
        var members = new Dictionary<NodeId, Uri>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = item.IndexOf('=');
            if (eq <= 0 || !int.TryParse(item[..eq], out var id) || id <= 0)
                throw new FormatException($"'{item}' is not ID=HOST:PORT (ids are positive integers)");
            var address = item[(eq + 1)..];
            if (!address.Contains("://")) address = defaultScheme + "://" + address;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Port <= 0)
                throw new FormatException($"'{item[(eq + 1)..]}' is not HOST:PORT");
            if (!members.TryAdd(new NodeId(id), uri)) throw new FormatException($"member {id} is listed twice");
        }
        return members.Count > 0 ? members : throw new FormatException("no members given");
    }
}

/// <summary>What a server does with an empty data directory (no Raft state yet). The rule that makes a lost disk safe
/// (etcd issues 10166, 16220): a member that once voted must never come back with an empty log as a voter, since it
/// could help elect a leader that lacks committed entries. Only the first start of a brand-new cluster bootstraps.</summary>
public enum ServerStartMode
{
    /// <summary>The library's default, for servers embedded in a process (tests): an empty directory bootstraps. <c>flotilla
    /// server</c> never starts this way: without <c>--initial-state</c> it restarts a directory with Raft state as
    /// <see cref="Existing"/> and refuses an empty one.</summary>
    Legacy,
    /// <summary>The first start of a brand-new cluster (<c>--initial-state new</c>): an empty directory bootstraps.</summary>
    NewCluster,
    /// <summary>A member of an existing cluster (<c>--initial-state existing</c>, what restarts use): an empty
    /// directory is refused with a one-line error (the member lost its disk: replace it under a new id).</summary>
    Existing,
    /// <summary>A new member joining a running cluster (<c>--initial-state join</c>): the directory must be empty at
    /// its first start; it waits as a non-member until the leader adds it.</summary>
    Join,
}
