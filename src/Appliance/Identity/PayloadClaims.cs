using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;

namespace Appliance.Identity;

/// <summary>Reads a verified JWT payload into string claims and its audit digest.</summary>
internal static class PayloadClaims
{
    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 32 };

    /// <summary>
    /// Flattens the payload: strings as they are, array elements one value each, anything else as its JSON
    /// text (so <c>42</c> and <c>true</c> can be matched). False when the payload is not a JSON object or
    /// repeats a claim name (which parsers disagree about, so it is refused rather than guessed).
    /// </summary>
    public static bool TryRead(
        string encodedPayload,
        [NotNullWhen(true)] out Dictionary<string, IReadOnlyList<string>>? claims,
        [NotNullWhen(true)] out string? digest)
    {
        claims = null;
        digest = null;
        byte[] json;
        try
        {
            json = Base64Url.DecodeFromChars(encodedPayload);
        }
        catch (FormatException)
        {
            return false;
        }

        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json, s_options);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!result.TryAdd(property.Name, Flatten(property.Value)))
                {
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        claims = result;
        digest = Convert.ToHexStringLower(SHA256.HashData(json));
        return true;
    }

    private static string[] Flatten(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return [AsText(value)];
        }
        var values = new string[value.GetArrayLength()];
        var i = 0;
        foreach (var element in value.EnumerateArray())
        {
            values[i++] = AsText(element);
        }
        return values;
    }

    private static string AsText(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
}
