using System.Text.Json;

namespace Appliance.Cli;

/// <summary>The <c>--json</c> output of the commands: indented, camelCase, one document per command.</summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions s_options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public static void Write(TextWriter output, object value) => output.WriteLine(JsonSerializer.Serialize(value, s_options));
}
