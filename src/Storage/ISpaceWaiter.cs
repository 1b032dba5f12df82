namespace Appliance.Storage;

/// <summary>Told when the store's queue has room again (see <see cref="SegmentStore.WhenSpace"/>).</summary>
public interface ISpaceWaiter
{
    /// <summary>Called on the store's writer thread (or the thread closing the store): must not block.</summary>
    void OnSpace();
}
