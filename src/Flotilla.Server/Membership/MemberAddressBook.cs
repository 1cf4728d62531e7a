using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flotilla.Server.Membership;

/// <summary>Where one member serves (client, framed-TCP peer, admin, console). A membership change that adds members
/// carries theirs in <c>ConfChange.Context</c> (<see cref="MemberAddressBook.Encode"/>), so every member that applies the change, also
/// when replaying its log after a restart, learns how to reach the new ones.</summary>
public sealed record MemberEndpoint
{
    [JsonPropertyName("id")] public required int Id { get; init; }
    [JsonPropertyName("client")] public required string Client { get; init; }
    [JsonPropertyName("peer")] public string? Peer { get; init; }
    [JsonPropertyName("admin")] public string? Admin { get; init; }
    [JsonPropertyName("console")] public string? Console { get; init; }

    /// <summary>Every address given, for the "already present" check.</summary>
    public IEnumerable<string> All() => new[] { Client, Peer, Admin, Console }.Where(a => !string.IsNullOrEmpty(a))!;

    /// <summary>The addresses as the one-line problem with them, or null when they are usable.</summary>
    public string? Invalid()
    {
        if (Id <= 0) return $"{Id} is not a member id";
        if (!Uri.TryCreate(Client, UriKind.Absolute, out var client) || client.Scheme is not ("http" or "https") || client.Port <= 0)
            return $"client address '{Client}' is not http(s)://HOST:PORT";
        if (!string.IsNullOrEmpty(Peer) && (!Uri.TryCreate(Peer, UriKind.Absolute, out var peer) || peer.Scheme != "tcp" || peer.Port <= 0))
            return $"peer address '{Peer}' is not tcp://HOST:PORT";
        foreach (var (what, text) in new[] { ("admin", Admin), ("console", Console) })
            if (!string.IsNullOrEmpty(text) && (!Uri.TryCreate(text, UriKind.Absolute, out var u) || u.Port <= 0))
                return $"{what} address '{text}' is not a URL with a port";
        return null;
    }

    /// <summary>host:port of each address, for comparing addresses whatever their scheme.</summary>
    public IEnumerable<string> Authorities() => All().Select(a => Uri.TryCreate(a, UriKind.Absolute, out var u) ? u.Authority : a);
}

/// <summary>The <c>ConfChange.Context</c> format: <c>{"members":[{id, client, peer, admin, console}]}</c> (JSON, UTF-8).</summary>
public static class MemberAddressBook
{
    private sealed record Wire([property: JsonPropertyName("members")] IReadOnlyList<MemberEndpoint> Members);

    public static byte[] Encode(IReadOnlyList<MemberEndpoint> members) => JsonSerializer.SerializeToUtf8Bytes(new Wire(members));

    /// <summary>The members a change's context names; empty for an empty or foreign context (never throws: a change
    /// someone else proposed with other bytes must not stop the apply).</summary>
    public static IReadOnlyList<MemberEndpoint> Decode(ReadOnlySpan<byte> context)
    {
        if (context.IsEmpty) return [];
        try
        {
            return JsonSerializer.Deserialize<Wire>(context)?.Members?.Where(m => m is not null && m.Invalid() is null).ToList() ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
