using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Appliance.Tests.Approvals;

/// <summary>A webhook receiver on loopback that fails the first <see cref="FailuresPerDelivery"/> attempts of each delivery, then accepts.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    public const int FailuresPerDelivery = 2;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _attempts = new();

    public sealed record Delivery(string Id, int Attempt, byte[] Body, string? Signature, int Status);

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    public int Port { get; }

    public WebhookReceiver(int port)
    {
        Port = port;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        _app = builder.Build();
        _app.MapPost("/hook", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var id = http.Request.Headers["X-Appliance-Delivery"].ToString();
            int attempt = _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            int status = attempt <= FailuresPerDelivery ? 503 : 200;
            Deliveries.Enqueue(new Delivery(id, attempt, body.ToArray(), http.Request.Headers["X-Appliance-Signature-256"].FirstOrDefault(), status));
            return Results.StatusCode(status);
        });
    }

    public Task StartAsync() => _app.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
