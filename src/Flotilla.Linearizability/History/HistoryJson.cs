using System.Text;
using System.Text.Json;
using Flotilla.Linearizability.Checking;

namespace Flotilla.Linearizability.History;

/// <summary>Reads and writes the JSON history format described in docs/history-format.md.</summary>
public static class HistoryJson
{
    public const string TimeUnit = "ns";

    /// <summary>Histories bigger than this are refused rather than read into memory.</summary>
    public const long MaxFileBytes = 1L << 30;

    public static string Serialize<TInput, TOutput>(IHistoryCodec<TInput, TOutput> codec, IEnumerable<Operation<TInput, TOutput>> history, bool indented = false)
        where TOutput : class
    {
        using var buffer = new MemoryStream();
        Write(buffer, codec, history, indented);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write<TInput, TOutput>(Stream stream, IHistoryCodec<TInput, TOutput> codec, IEnumerable<Operation<TInput, TOutput>> history, bool indented = false)
        where TOutput : class
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
        w.WriteStartObject();
        w.WriteString("model", codec.ModelName);
        w.WriteString("timeUnit", TimeUnit);
        w.WriteStartArray("operations");
        foreach (var op in history)
        {
            w.WriteStartObject();
            w.WriteNumber("client", op.ClientId);
            w.WriteNumber("call", op.CallTime);
            if (op.ReturnTime is { } ret) w.WriteNumber("return", ret);
            else w.WriteNull("return");
            w.WritePropertyName("input");
            codec.WriteInput(w, op.Input);
            w.WritePropertyName("output");
            if (op.EffectiveOutput is { } output) codec.WriteOutput(w, output);
            else w.WriteNullValue();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The <c>"model"</c> field of a history, to pick the codec and model.</summary>
    public static string ReadModelName(JsonDocument document)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new HistoryFormatException("a history must be a JSON object");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(model.GetString()))
            throw new HistoryFormatException("the history has no \"model\" string");
        return model.GetString()!;
    }

    public static JsonDocument Parse(string json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new HistoryFormatException($"not valid JSON: {e.Message}", e);
        }
    }

    public static IReadOnlyList<Operation<TInput, TOutput>> Deserialize<TInput, TOutput>(IHistoryCodec<TInput, TOutput> codec, string json)
        where TOutput : class
    {
        using var document = Parse(json);
        return Read(codec, document);
    }

    public static IReadOnlyList<Operation<TInput, TOutput>> Read<TInput, TOutput>(IHistoryCodec<TInput, TOutput> codec, JsonDocument document)
        where TOutput : class
    {
        var model = ReadModelName(document);
        if (model != codec.ModelName)
            throw new HistoryFormatException($"the history is for model \"{model}\", expected \"{codec.ModelName}\"");
        var root = document.RootElement;
        if (root.TryGetProperty("timeUnit", out var unit) && unit.ValueKind != JsonValueKind.Null
            && (unit.ValueKind != JsonValueKind.String || unit.GetString() != TimeUnit))
            throw new HistoryFormatException($"\"timeUnit\" must be \"{TimeUnit}\" when present");
        if (!root.TryGetProperty("operations", out var operations) || operations.ValueKind != JsonValueKind.Array)
            throw new HistoryFormatException("the history has no \"operations\" array");

        var result = new List<Operation<TInput, TOutput>>(operations.GetArrayLength());
        var index = 0;
        foreach (var element in operations.EnumerateArray())
        {
            try
            {
                result.Add(ReadOperation(codec, element));
            }
            catch (HistoryFormatException e)
            {
                throw new HistoryFormatException($"operation {index}: {e.Message}", e);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
            {
                throw new HistoryFormatException($"operation {index}: {e.Message}", e);
            }
            index++;
        }
        return result;
    }

    private static Operation<TInput, TOutput> ReadOperation<TInput, TOutput>(IHistoryCodec<TInput, TOutput> codec, JsonElement element)
        where TOutput : class
    {
        if (element.ValueKind != JsonValueKind.Object) throw new HistoryFormatException("must be an object");
        var client = Required(element, "client");
        if (client.ValueKind != JsonValueKind.Number || !client.TryGetInt32(out var clientId))
            throw new HistoryFormatException("\"client\" must be an integer");
        var call = RequiredInteger(element, "call");
        long? ret = element.TryGetProperty("return", out var r) && r.ValueKind != JsonValueKind.Null
            ? Integer(r, "return")
            : null;
        if (ret is { } returned && returned < call)
            throw new HistoryFormatException($"returns ({returned}) before it is called ({call})");
        var input = codec.ReadInput(Required(element, "input"));
        TOutput? output = element.TryGetProperty("output", out var o) && o.ValueKind != JsonValueKind.Null
            ? codec.ReadOutput(o)
            : null;
        // An operation that never returned has no known output, whatever the file says.
        return new Operation<TInput, TOutput>(clientId, input, call, ret is null ? null : output, ret);
    }

    private static JsonElement Required(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value : throw new HistoryFormatException($"missing \"{name}\"");

    private static long RequiredInteger(JsonElement element, string name) => Integer(Required(element, name), name);

    private static long Integer(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n)
            ? n
            : throw new HistoryFormatException($"\"{name}\" must be an integer");
}
