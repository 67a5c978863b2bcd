using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ReplayProxy.ConfigFallback;

/// <summary>
/// One config GET to Amplitude, able to outlive the client's request: the head and up to
/// <see cref="ConfigMemory.MaxEntryBytes"/> of the body are read (within <see cref="ReplayProxySettings.UpstreamTimeout"/>),
/// a whole <c>200</c> gets its SDK diagnostics switched off (<see cref="SdkDiagnosticsRewrite"/>) unless
/// <see cref="ReplayProxyOptions.AllowSdkDiagnostics"/>, and a usable one is remembered for the stale fallback.
/// </summary>
internal sealed class ConfigFetcher(HttpMessageInvoker upstream, ReplayProxySettings settings, ConfigMemory memory, bool rewriteDiagnostics)
{
    /// <summary>Fetches with <paramref name="message"/>, which it disposes. <paramref name="key"/> is the memory key;
    /// with <paramref name="remember"/> false a good answer is not remembered (a refusal still forgets).</summary>
    public async Task<ConfigUpstreamAnswer> FetchAsync(HttpRequestMessage message, string key, bool remember)
    {
        var answer = new ConfigUpstreamAnswer(settings.UpstreamTimeout);
        using (message)
        {
            try
            {
                var response = answer.Response = await upstream.SendAsync(message, answer.Timeout.Token);
                var body = await response.Content.ReadAsStreamAsync(answer.Timeout.Token);
                await answer.BufferAsync(body, ConfigMemory.MaxEntryBytes + 1);
                var status = (int)response.StatusCode;
                if (status == StatusCodes.Status200OK && answer.Complete)
                {
                    var encoding = ContentEncoding(response);
                    if (rewriteDiagnostics && SdkDiagnosticsRewrite.Rewrite(answer.Buffered.Span, encoding, ConfigMemory.MaxEntryBytes) is { } rewritten)
                    {
                        answer.Rewrite(rewritten);
                    }

                    if (remember && IsRememberable(answer.Buffered.Span, encoding))
                    {
                        memory.Remember(key, answer.Buffered.ToArray(), response.Content.Headers.ContentType?.ToString(), encoding);
                    }
                }
                else if (status is >= 400 and < 500 && status != StatusCodes.Status429TooManyRequests)
                {
                    // Amplitude refused this key or query: what was remembered for it no longer stands.
                    memory.Forget(key);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
            {
                answer.Error = answer.Response is null ? Classify(ex, answer.Timeout) : ProxyError.UpstreamResponseAborted;
            }
        }

        return answer;
    }

    private static bool IsRememberable(ReadOnlySpan<byte> body, string? encoding) =>
        body.Length <= ConfigMemory.MaxEntryBytes
        && ConfigBody.IsKnownEncoding(encoding)
        && ConfigBody.HasConfigsObject(body, encoding, ConfigMemory.MaxEntryBytes);

    private static string? ContentEncoding(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues(HeaderNames.ContentEncoding, out var values) ? values.ToString() : null;

    private static ProxyError Classify(Exception exception, CancellationTokenSource timeout) =>
        timeout.IsCancellationRequested ? ProxyError.UpstreamTimeout : ForwarderErrorMapping.ForSendFailure(exception as HttpRequestException);
}
