using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests.Identity;

/// <summary>A real HTTP server on 127.0.0.1 serving a JWKS document, to exercise the real HTTP stack.</summary>
internal sealed class LoopbackJwksServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;
    private int _requests;

    private LoopbackJwksServer(HttpListener listener, string uri, string jwks)
    {
        _listener = listener;
        Uri = uri;
        Jwks = jwks;
        _loop = ServeAsync();
    }

    public string Uri { get; }

    public string Jwks { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    public static LoopbackJwksServer Start(string jwks)
    {
        // HttpListener cannot bind port 0; take a free port from the OS and retry if someone races us to it.
        for (var attempt = 0; ; attempt++)
        {
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }
            var prefix = $"http://127.0.0.1:{port}/";
            var listener = new HttpListener();
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
                return new LoopbackJwksServer(listener, prefix + "jwks", jwks);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            Interlocked.Increment(ref _requests);
            var body = Encoding.UTF8.GetBytes(Jwks);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }
}
