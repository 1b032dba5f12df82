namespace Appliance.Recording;

/// <summary>Why a <see cref="SessionRecorder"/> stopped recording; the session hook then ends the session.</summary>
public enum RecordingFailure
{
    None,

    /// <summary>The store's queue was full and <c>record.when_full</c> is <c>fail-session</c>.</summary>
    QueueFull,

    /// <summary>The store is closed or its writer failed (an I/O error such as a full disk).</summary>
    StoreUnavailable,

    /// <summary><see cref="SessionRecorder.End"/> was already called.</summary>
    Ended,
}
