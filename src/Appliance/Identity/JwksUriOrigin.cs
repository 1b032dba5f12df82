using System.Buffers;
using System.Text;

namespace Appliance.Identity;

/// <summary>A JWKS document fetched over HTTP(S) (<c>jwks_uri</c>).</summary>
internal sealed class JwksUriOrigin : JwksOrigin
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Uri _uri;
    private readonly HttpClient _http;

    public JwksUriOrigin(Uri uri, HttpClient http)
    {
        _uri = uri;
        _http = http;
    }

    public override string Description => _uri.ToString();

    public override bool ExpiresWithAge => true;

    public override async Task<string> ReadAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _uri);
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
        }
        if (response.Content.Headers.ContentLength > MaxJwksBytes)
        {
            throw new InvalidDataException($"response is larger than {MaxJwksBytes} bytes");
        }

        // Read with a cap rather than trusting Content-Length (absent when chunked).
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var collected = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
                {
                    if (collected.Length + read > MaxJwksBytes)
                    {
                        throw new InvalidDataException($"response is larger than {MaxJwksBytes} bytes");
                    }
                    collected.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            try
            {
                return s_strictUtf8.GetString(collected.GetBuffer(), 0, (int)collected.Length);
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException("response is not valid UTF-8");
            }
        }
    }
}
