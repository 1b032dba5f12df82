namespace Appliance.Configuration;

/// <summary>Loads and validates the YAML configuration, reporting every error with file, line, column and key path.</summary>
public static class ConfigLoader
{
    // Far above any real configuration; keeps a wrong path (a disk image, /dev/zero) from being read whole.
    private const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>Loads a configuration file; relative paths inside it resolve against its directory.</summary>
    public static ConfigLoadResult LoadFile(string path)
    {
        string fullPath;
        string text;
        try
        {
            fullPath = Path.GetFullPath(path);
            var info = new FileInfo(fullPath);
            if (info.Exists && info.Length > MaxFileBytes)
            {
                return Failure(path, $"the file is larger than {MaxFileBytes / (1024 * 1024)} MiB; is this the configuration?");
            }

            text = File.ReadAllText(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Failure(path, $"cannot read the configuration: {e.Message}");
        }

        return Load(text, path, fullPath, Path.GetDirectoryName(fullPath) ?? Directory.GetCurrentDirectory());
    }

    /// <summary>
    /// Loads configuration text. <paramref name="sourceName"/> names it in errors; relative paths resolve
    /// against <paramref name="baseDirectory"/>, or the directory of <paramref name="sourceName"/> when null.
    /// </summary>
    public static ConfigLoadResult LoadText(string yaml, string sourceName, string? baseDirectory = null)
    {
        var fullPath = Path.GetFullPath(sourceName);
        return Load(yaml, sourceName, fullPath,
            baseDirectory is null ? Path.GetDirectoryName(fullPath) ?? Directory.GetCurrentDirectory() : Path.GetFullPath(baseDirectory));
    }

    /// <summary>
    /// Errors for referenced files (JWKS, TLS pair, upstream password and CA) that do not exist or cannot be
    /// opened; relative paths resolve against <paramref name="configPath"/>'s directory. Contents are not read.
    /// </summary>
    public static IReadOnlyList<ConfigError> CheckReferencedFiles(ApplianceConfig config, string configPath)
    {
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? Directory.GetCurrentDirectory();
        var errors = new List<ConfigError>();
        void Check(string key, string? file)
        {
            if (file is null)
            {
                return;
            }

            var full = Path.GetFullPath(file, baseDirectory);
            var problem = ProblemWithFile(full);
            if (problem is not null)
            {
                var at = config.Positions.GetValueOrDefault(key);
                errors.Add(new ConfigError(configPath, at.Line, at.Column, key, problem));
            }
        }

        for (var i = 0; i < config.Identity.Issuers.Count; i++)
        {
            Check($"identity.issuers[{i}].jwks_file", config.Identity.Issuers[i].JwksFile);
        }

        for (var i = 0; i < config.Targets.Count; i++)
        {
            var target = config.Targets[i];
            Check($"targets[{i}].tls.cert_file", target.Tls?.CertFile);
            Check($"targets[{i}].tls.key_file", target.Tls?.KeyFile);
            Check($"targets[{i}].upstream.password_file", target.Upstream.PasswordFile);
            Check($"targets[{i}].upstream.ca_file", target.Upstream.CaFile);
        }

        Check("approvals.webhook.secret_file", config.Approvals.Webhook?.SecretFile);
        return errors;
    }

    private static ConfigLoadResult Load(string yaml, string sourceName, string fullPath, string baseDirectory)
    {
        var binder = new ConfigBinder(sourceName, baseDirectory);
        var root = ConfigTreeReader.Read(yaml, (at, message) => binder.Error(at, "", message));
        var config = binder.Bind(root, fullPath);
        return config is not null && binder.Errors.Count == 0
            ? ConfigLoadResult.Success(config)
            : ConfigLoadResult.Failure(binder.Errors);
    }

    private static ConfigLoadResult Failure(string file, string message) =>
        ConfigLoadResult.Failure([new ConfigError(file, 0, 0, "", message)]);

    private static string? ProblemWithFile(string path)
    {
        if (Directory.Exists(path))
        {
            return $"{ConfigText.Quote(path, 256)} is a directory, expected a file";
        }

        if (!File.Exists(path))
        {
            return $"file not found: {ConfigText.Quote(path, 256)}";
        }

        try
        {
            // Opened only to prove the service can read it; secrets are not read here.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"cannot read {ConfigText.Quote(path, 256)}: permission denied";
        }
        catch (IOException e)
        {
            return $"cannot read {ConfigText.Quote(path, 256)}: {e.Message}";
        }
    }
}
