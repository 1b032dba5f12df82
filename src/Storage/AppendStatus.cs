namespace Appliance.Storage;

/// <summary>Outcome of an append.</summary>
public enum AppendStatus
{
    /// <summary>In the queue; the writer will write it. Not yet acknowledged (see <see cref="FsyncPolicy"/>).</summary>
    Appended,

    /// <summary>The queue is full right now (backpressure); nothing was written.</summary>
    Full,

    /// <summary>The payload is larger than <see cref="StoreOptions.MaxRecordBytes"/>.</summary>
    TooLarge,

    /// <summary>The store is closing or closed.</summary>
    Closed,

    /// <summary>The writer failed (an I/O error, such as a full disk); nothing more will be written.</summary>
    Faulted,
}
