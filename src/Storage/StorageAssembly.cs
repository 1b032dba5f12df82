namespace Appliance.Storage;

/// <summary>Placeholder until the segment store lands (recording issue).</summary>
internal static class StorageAssembly;
