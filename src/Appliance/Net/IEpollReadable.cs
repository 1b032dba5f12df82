namespace Appliance.Net;

/// <summary>Handles data as it arrives, on the loop thread (see <see cref="EpollSocketStream.WaitReadableAsync"/>).</summary>
internal interface IEpollReadable
{
    /// <summary>
    /// Reads with <see cref="EpollSocketStream.ReceiveNow"/> and handles what came. True: it read until the socket
    /// would block (or a read came back short), so the wait goes on; false: the wait ends, and its awaiter carries on.
    /// </summary>
    bool OnReadable();
}
