using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace ReplayProxy.Testing;

/// <summary>What came back on one raw connection: every byte, and how the connection ended.</summary>
public sealed partial record RawResult(byte[] Bytes, bool ClosedByServer, bool TimedOut)
{
    public string Text => Encoding.Latin1.GetString(Bytes);

    /// <summary>The status of every response on the connection, in order.</summary>
    public IReadOnlyList<int> Statuses => StatusLine().Matches(Text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public int? FirstStatus => Statuses.Count > 0 ? Statuses[0] : null;

    public override string ToString() => $"closed={ClosedByServer} timedOut={TimedOut} statuses=[{string.Join(",", Statuses)}] head={Text[..Math.Min(Text.Length, 300)].ReplaceLineEndings("\\n")}";

    [GeneratedRegex(@"(?m)^HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}

/// <summary>Writes bytes exactly as given to a real socket (no client library to tidy them up) and reads what comes back.</summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and reads until the server closes, or until nothing arrives for <paramref name="quiet"/>.</summary>
    public static async Task<RawResult> SendAsync(Uri server, byte[] request, TimeSpan? quiet = null)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything (e.g. 431); read what it said.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var closed = false;
        var timedOut = false;
        while (true)
        {
            using var idle = new CancellationTokenSource(quiet ?? TimeSpan.FromSeconds(10));
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, idle.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                break;
            }
            catch (IOException)
            {
                closed = true;
                break;
            }

            if (read == 0)
            {
                closed = true;
                break;
            }

            received.Write(buffer, 0, read);
        }

        return new RawResult(received.ToArray(), closed, timedOut);
    }

    public static Task<RawResult> SendAsync(Uri server, string request, TimeSpan? quiet = null) =>
        SendAsync(server, Encoding.UTF8.GetBytes(request), quiet);

    /// <summary>Reads from <paramref name="stream"/> until the end of a response head (or the end of the stream), for
    /// at most 10 seconds.</summary>
    public static async Task<string> ReadHeadAsync(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[8192];
        var text = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}

/// <summary>Waiting for what happens on another socket or thread.</summary>
public static class Eventually
{
    /// <summary>Returns once <paramref name="condition"/> holds or <paramref name="timeout"/> has passed; the caller asserts.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var until = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < until)
        {
            await Task.Delay(20);
        }
    }
}
