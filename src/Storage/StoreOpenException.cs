namespace Appliance.Storage;

/// <summary>The store cannot be opened for writing (another writer holds it, or the directory is unusable).</summary>
public sealed class StoreOpenException : Exception
{
    public StoreOpenException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
