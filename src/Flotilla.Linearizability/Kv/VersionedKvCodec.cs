using System.Text.Json;
using Flotilla.Linearizability.History;

namespace Flotilla.Linearizability.Kv;

/// <summary>The JSON shape of versioned-KV operations (docs/history-format.md):
/// input <c>{"op":"get","key":"k"}</c> / <c>{"op":"put","key":"k","value":"x","version":2}</c>;
/// output <c>{"value":"x","version":3,"error":null}</c> / <c>{"error":"ErrMaybe"}</c>.</summary>
public sealed class VersionedKvCodec : IHistoryCodec<KvInput, KvOutput>
{
    public const string Name = "versioned-kv";

    public static VersionedKvCodec Instance { get; } = new();

    public string ModelName => Name;

    public void WriteInput(Utf8JsonWriter writer, KvInput input)
    {
        writer.WriteStartObject();
        writer.WriteString("op", input.Op == KvOp.Get ? "get" : "put");
        writer.WriteString("key", input.Key);
        if (input.Op == KvOp.Put)
        {
            writer.WriteString("value", input.Value);
            writer.WriteNumber("version", input.Version);
        }
        writer.WriteEndObject();
    }

    public void WriteOutput(Utf8JsonWriter writer, KvOutput output)
    {
        writer.WriteStartObject();
        if (output.Error == KvError.Ok && output.Value is not null)
        {
            writer.WriteString("value", output.Value);
            writer.WriteNumber("version", output.Version);
        }
        if (output.Error == KvError.Ok) writer.WriteNull("error");
        else writer.WriteString("error", output.Error.ToString());
        writer.WriteEndObject();
    }

    public KvInput ReadInput(JsonElement input)
    {
        if (input.ValueKind != JsonValueKind.Object) throw new HistoryFormatException("\"input\" must be an object");
        var op = String(input, "op", required: true);
        var key = String(input, "key", required: true)!;
        return op switch
        {
            "get" => KvInput.Get(key),
            "put" => KvInput.Put(key, String(input, "value", required: true)!, Version(input, required: true)),
            _ => throw new HistoryFormatException($"unknown op \"{op}\" (expected \"get\" or \"put\")"),
        };
    }

    public KvOutput ReadOutput(JsonElement output)
    {
        if (output.ValueKind != JsonValueKind.Object) throw new HistoryFormatException("\"output\" must be an object or null");
        var error = String(output, "error", required: false) switch
        {
            null => KvError.Ok,
            "ErrNoKey" => KvError.ErrNoKey,
            "ErrVersion" => KvError.ErrVersion,
            "ErrMaybe" => KvError.ErrMaybe,
            var other => throw new HistoryFormatException($"unknown error \"{other}\" (expected null, ErrNoKey, ErrVersion or ErrMaybe)"),
        };
        var value = String(output, "value", required: false);
        return error == KvError.Ok && value is not null
            ? KvOutput.Read(value, Version(output, required: true))
            : new KvOutput(error);
    }

    private static string? String(JsonElement element, string name, bool required)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return required ? throw new HistoryFormatException($"missing \"{name}\"") : null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new HistoryFormatException($"\"{name}\" must be a string");
    }

    private static long Version(JsonElement element, bool required)
    {
        if (!element.TryGetProperty("version", out var value))
            return required ? throw new HistoryFormatException("missing \"version\"") : 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v) && v >= 0
            ? v
            : throw new HistoryFormatException("\"version\" must be a non-negative integer");
    }
}
