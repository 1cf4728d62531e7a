using System.Buffers;

namespace Flotilla.MapReduce.Apps;

/// <summary>
/// The words of the built-in apps in ASCII bytes: maximal runs of A–Z and a–z (on ASCII input exactly what
/// <c>char.IsLetter</c> splits on). <c>foreach (var word in new AsciiWords(bytes))</c> yields each as a span of the
/// input, so no string is made per word.
/// </summary>
internal ref struct AsciiWords(ReadOnlySpan<byte> text)
{
    private static readonly SearchValues<byte> Letters = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);
    private ReadOnlySpan<byte> _rest = text;

    public ReadOnlySpan<byte> Current { get; private set; }

    public readonly AsciiWords GetEnumerator() => this;

    public bool MoveNext()
    {
        var start = _rest.IndexOfAny(Letters);
        if (start < 0)
        {
            _rest = default;
            return false;
        }
        _rest = _rest[start..];
        var length = _rest.IndexOfAnyExcept(Letters);
        if (length < 0) length = _rest.Length;
        Current = _rest[..length];
        _rest = _rest[length..];
        return true;
    }
}
