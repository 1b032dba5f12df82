using Appliance.Configuration;

namespace Appliance.Hosting;

/// <summary>
/// Refuses to start while a secret the gateway reads (an upstream <c>password_file</c>, a TLS <c>key_file</c>)
/// can be read or changed by anyone but its owner: a secret shared with a group is no longer the gateway's alone.
/// </summary>
internal static class SecretFiles
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>One line per secret file that is open to its group or to others, naming the file and its mode.</summary>
    public static IReadOnlyList<string> Problems(ApplianceConfig config)
    {
        var problems = new List<string>();
        foreach (var (key, path) in SecretPaths(config))
        {
            UnixFileMode mode;
            try
            {
                // Follows symbolic links: the mode that matters is the one of the file actually read.
                mode = File.GetUnixFileMode(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // Missing or unreadable files are reported by the configuration check, with their position.
            }
            if ((mode & GroupOrOthers) != 0)
            {
                var octal = Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');
                problems.Add($"{key}: secret file {ConfigText.Quote(path, 256)} has mode {octal} and is open to its group or to other users; " +
                             $"make it readable by the service user only (chmod 600)");
            }
        }
        return problems;
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> listing every problem, if there is any.</summary>
    public static void EnsurePrivate(ApplianceConfig config)
    {
        var problems = Problems(config);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }
    }

    private static IEnumerable<(string Key, string Path)> SecretPaths(ApplianceConfig config)
    {
        for (var i = 0; i < config.Targets.Count; i++)
        {
            var target = config.Targets[i];
            if (target.Upstream.PasswordFile is { } password)
            {
                yield return ($"targets[{i}].upstream.password_file", password);
            }
            if (target.Tls?.KeyFile is { } key)
            {
                yield return ($"targets[{i}].tls.key_file", key);
            }
        }
        if (config.Approvals.Webhook?.SecretFile is { } webhookSecret)
        {
            yield return ("approvals.webhook.secret_file", webhookSecret);
        }
    }
}
