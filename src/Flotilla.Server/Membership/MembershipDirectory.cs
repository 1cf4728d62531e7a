using System.Collections.Concurrent;
using Flotilla.Raft;
using Flotilla.Runtime;
using Flotilla.Transport.Grpc;
using Microsoft.Extensions.Logging;

namespace Flotilla.Server.Membership;

/// <summary>
/// Keeps the server's address books in step with the group's membership: every applied change that adds members
/// (also when the log is replayed after a restart) carries their addresses (<see cref="MemberAddressBook"/>), which go
/// into the peer directory (Raft traffic) and the client addresses (leader hints). Also notices when this member
/// itself leaves the membership it applied, and says so in the log: it takes no further part and should be stopped.
/// </summary>
public sealed class MembershipDirectory
{
    private readonly NodeId _self;
    private readonly PeerDirectory _peers;
    private readonly ClientAddresses _clients;
    private readonly bool _tcpPeers;
    private readonly ILogger? _log;
    private readonly ConcurrentDictionary<int, MemberEndpoint> _known = new();
    private bool _wasMember;

    public MembershipDirectory(NodeId self, ServerOptions options, PeerDirectory peers, ClientAddresses clients)
    {
        _self = self;
        _peers = peers;
        _clients = clients;
        _tcpPeers = options.PeerUrls is not null;
        _log = options.Logs?.CreateLogger("flotilla.membership");
        foreach (var (id, client) in options.Members)
        {
            _known[id.Value] = new MemberEndpoint
            {
                Id = id.Value, Client = client.ToString().TrimEnd('/'),
                Peer = options.PeerUrls?.GetValueOrDefault(id)?.ToString().TrimEnd('/'),
                Admin = id == self && options.AdminListen is { } a ? $"http://{a}" : null,
                Console = id == self && options.ConsoleListen is { } c ? $"http://{c}" : null,
            };
        }
    }

    /// <summary>True once this member applied a membership that no longer includes it.</summary>
    public bool Removed { get; private set; }

    /// <summary>Every member whose addresses this server knows (from its command line or a change), by id.</summary>
    public IReadOnlyDictionary<int, MemberEndpoint> Known => _known;

    /// <summary>The first known member other than <paramref name="candidate"/>'s id that uses one of its addresses, or null.</summary>
    public MemberEndpoint? Clash(MemberEndpoint candidate)
    {
        var wanted = candidate.Authorities().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return _known.Values.Where(m => m.Id != candidate.Id).OrderBy(m => m.Id).FirstOrDefault(m => m.Authorities().Any(wanted.Contains));
    }

    public void Attach(RaftNode raft) => raft.MembershipApplied += OnApplied;

    private void OnApplied(MembershipApplied applied)
    {
        if (applied.Change is { } change)
        {
            foreach (var member in MemberAddressBook.Decode(change.Context.Span)) Learn(member);
        }
        if (applied.Membership.Contains(_self)) _wasMember = true;
        else if (_wasMember && !Removed)
        {
            Removed = true;
            _log?.LogWarning("n{Self} was removed from the group (membership at {Index} is {Membership}): it takes no further part; stop this process",
                _self.Value, applied.Index, applied.Membership);
        }
    }

    private void Learn(MemberEndpoint member)
    {
        _known[member.Id] = member;
        var id = new NodeId(member.Id);
        if (id == _self) return;
        var client = new Uri(member.Client);
        _clients.Set(id, client);
        if (_tcpPeers && member.Peer is { Length: > 0 } peer) _peers.Set(id, new Uri(peer));
        else if (!_tcpPeers) _peers.Set(id, client);
    }
}
