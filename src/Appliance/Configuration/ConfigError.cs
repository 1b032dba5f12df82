namespace Appliance.Configuration;

/// <summary>One problem in a configuration file, with where it is and which key it concerns.</summary>
public sealed record ConfigError(string File, int Line, int Column, string Key, string Message)
{
    /// <summary><c>file:line:col: key.path: message</c>; the position and key are left out when unknown.</summary>
    public override string ToString()
    {
        var position = Line > 0 ? $":{Line}:{Column}" : "";
        var key = Key.Length > 0 ? $" {Key}:" : "";
        return $"{File}{position}:{key} {Message}";
    }
}
