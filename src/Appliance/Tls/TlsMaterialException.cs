namespace Appliance.Tls;

/// <summary>TLS certificate or key material that cannot be used; the message names the file and the reason.</summary>
public sealed class TlsMaterialException : Exception
{
    /// <summary>Creates the exception with a message for the operator.</summary>
    public TlsMaterialException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message for the operator and the underlying failure.</summary>
    public TlsMaterialException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
