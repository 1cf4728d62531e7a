using System.Text;
using Flotilla.Kv.Server;
using Google.Protobuf;

namespace Flotilla.Kv;

/// <summary>
/// Decodes the requests of protos/flotilla/kv.proto from untrusted bytes, on every path (gRPC and the peer
/// transport): a message that is not well-formed protobuf (truncated, overlong varint, bad wire type) or whose key or
/// value is not valid UTF-8 is the caller's mistake, reported as <see cref="KvInvalidArgumentException"/>, never a
/// server error. Protobuf itself would silently replace invalid UTF-8 with U+FFFD, so a mangled key could name (and
/// overwrite) a different key than the client meant; the strings are checked on the raw bytes first.
/// </summary>
public static class KvWire
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses <paramref name="bytes"/>; in both request messages fields 1 (key) and 2 (value) are strings.</summary>
    public static T Parse<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes) where T : IMessage<T>
    {
        try
        {
            CheckStrings(bytes, typeof(T).Name);
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new KvInvalidArgumentException($"malformed {typeof(T).Name}: {e.Message}");
        }
    }

    private static void CheckStrings(ReadOnlySpan<byte> bytes, string message)
    {
        var input = new CodedInputStream(bytes.ToArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = WireFormat.GetTagFieldNumber(tag);
            if (field is 1 or 2 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                var text = input.ReadBytes();
                try { StrictUtf8.GetCharCount(text.Span); }
                catch (DecoderFallbackException)
                {
                    throw new KvInvalidArgumentException($"malformed {message}: {(field == 1 ? "key" : "value")} is not valid UTF-8");
                }
            }
            else
            {
                input.SkipLastField();
            }
        }
    }
}
