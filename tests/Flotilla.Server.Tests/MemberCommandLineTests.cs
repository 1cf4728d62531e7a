using Flotilla.Server.Cluster;
using Flotilla.Server.Membership;

namespace Flotilla.Server.Tests;

/// <summary>The pieces of membership changes that need no process: a new member's command line derived from another's,
/// the next id (never reused), and the address book carried in a change's context.</summary>
public class MemberCommandLineTests
{
    private static readonly IReadOnlyList<string> Template =
    [
        "dotnet", "flotilla.dll", "server", "--id", "1", "--listen", "127.0.0.1:7001", "--members", "1=127.0.0.1:7001",
        "--data", "/c/node-1", "--parent-pid", "42", "--admin-listen", "127.0.0.1:7201", "--console", "127.0.0.1:7301",
        "--peer-urls", "1=tcp://127.0.0.1:7101", "--initial-voters", "1", "--snapshot-threshold", "4096", "--initial-state", "existing",
    ];

    [Fact]
    public void ANewMembersCommandLineKeepsTheSharedFlagsAndNamesEveryMember()
    {
        var one = new ClusterMember { Id = 1, Address = "http://127.0.0.1:7001", PeerAddress = "tcp://127.0.0.1:7101" };
        var four = new ClusterMember
        {
            Id = 4, Address = "http://127.0.0.1:9001", PeerAddress = "tcp://127.0.0.1:9101", AdminAddress = "http://127.0.0.1:9201",
            ConsoleAddress = "http://127.0.0.1:9301", DataDirectory = "/c/node-4",
        };
        var command = MemberCommandLine.For(Template, four, [one, four]);

        Assert.Equal("4", MemberCommandLine.Value(command, "--id"));
        Assert.Equal("127.0.0.1:9001", MemberCommandLine.Value(command, "--listen"));
        Assert.Equal("/c/node-4", MemberCommandLine.Value(command, "--data"));
        Assert.Equal("127.0.0.1:9201", MemberCommandLine.Value(command, "--admin-listen"));
        Assert.Equal("127.0.0.1:9301", MemberCommandLine.Value(command, "--console"));
        Assert.Equal("1=127.0.0.1:7001,4=127.0.0.1:9001", MemberCommandLine.Value(command, "--members"));
        Assert.Equal("1=tcp://127.0.0.1:7101,4=tcp://127.0.0.1:9101", MemberCommandLine.Value(command, "--peer-urls"));
        // Shared: the bootstrap voters, the supervisor, extra flags; and a restart never bootstraps.
        Assert.Equal("1", MemberCommandLine.Value(command, "--initial-voters"));
        Assert.Equal("42", MemberCommandLine.Value(command, "--parent-pid"));
        Assert.Equal("4096", MemberCommandLine.Value(command, "--snapshot-threshold"));
        Assert.Equal("existing", MemberCommandLine.Value(command, "--initial-state"));
        Assert.Equal(Template.Count, command.Count);
    }

    [Fact]
    public void TheNextIdIsAboveEveryIdEverUsed()
    {
        var file = ClusterFile.Parse("""{"endpoints":["http://127.0.0.1:1"],"members":[{"id":2,"address":"http://127.0.0.1:1"}],"initial_voters":[1,2,3],"next_id":7}""", "test");
        Assert.Equal(7, file.NextMemberId);
        Assert.Equal(4, (file with { NextId = 0 }).NextMemberId); // an older file: above the initial voters and members
        Assert.Equal(5, ClusterFile.Parse("""{"endpoints":["x"],"members":[{"id":4,"address":"x"}]}""", "test").NextMemberId);
        Assert.Throws<ClusterFileException>(() => ClusterFile.Parse("""{"endpoints":["x"],"next_id":-1}""", "test"));
    }

    [Fact]
    public void TheAddressBookRoundTripsAndIgnoresForeignContexts()
    {
        var member = new MemberEndpoint { Id = 4, Client = "http://127.0.0.1:9001", Peer = "tcp://127.0.0.1:9101", Admin = "http://127.0.0.1:9201" };
        Assert.Equal([member], MemberAddressBook.Decode(MemberAddressBook.Encode([member])));
        Assert.Empty(MemberAddressBook.Decode("not json"u8));
        Assert.Empty(MemberAddressBook.Decode(MemberAddressBook.Encode([member with { Client = "ftp://x" }])));
        Assert.Equal("peer address 'http://x:1' is not tcp://HOST:PORT", (member with { Peer = "http://x:1" }).Invalid());
    }
}
