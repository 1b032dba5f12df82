using System.Net;

namespace Appliance.Configuration;

/// <summary>A target's parsed listen address, kept while loading to check listeners against each other.</summary>
internal sealed record BoundListener(IPEndPoint Endpoint, string ListenPath, string TlsPath, TargetConfig Target);
