namespace Appliance.Identity;

/// <summary>A JWKS file on disk (<c>jwks_file</c>).</summary>
internal sealed class JwksFileOrigin : JwksOrigin
{
    private readonly string _path;

    public JwksFileOrigin(string path) => _path = path;

    public override string Description => _path;

    public override bool ExpiresWithAge => false;

    /// <summary>Synchronous read, used at start so a bad file stops the service before it listens.</summary>
    public string Read()
    {
        var info = new FileInfo(_path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("file does not exist");
        }
        if (info.Length > MaxJwksBytes)
        {
            throw new InvalidDataException($"file is larger than {MaxJwksBytes} bytes");
        }
        return File.ReadAllText(_path);
    }

    public override Task<string> ReadAsync(CancellationToken ct) => Task.FromResult(Read());
}
