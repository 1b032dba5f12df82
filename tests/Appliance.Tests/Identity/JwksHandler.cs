using System.Net;
using System.Text;

namespace Appliance.Tests.Identity;

/// <summary>Answers every request with the current JWKS (or a status code) and counts requests.</summary>
internal sealed class JwksHandler : HttpMessageHandler
{
    private int _requests;

    public JwksHandler(string jwks) => Jwks = jwks;

    public string Jwks { get; set; }

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    /// <summary>When set, responses wait for it (to hold a fetch in flight).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        return new HttpResponseMessage(Status)
        {
            Content = new StringContent(Status == HttpStatusCode.OK ? Jwks : "unavailable", Encoding.UTF8, "application/json"),
        };
    }
}
