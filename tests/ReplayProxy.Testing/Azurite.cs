using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace ReplayProxy.Testing;

/// <summary>
/// Azurite's Blob service (npm <c>azurite</c>, installed into tests/tools by <c>npm ci --prefix tests/tools</c>) as a
/// real Blob endpoint on a free loopback port, in memory, one process for the whole test run (killed when it ends).
/// Each test takes a container of its own.
/// </summary>
public sealed class Azurite
{
    /// <summary>Azurite's well-known development account key (public, in Azure's documentation).</summary>
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly SemaphoreSlim StartLock = new(1, 1);
    private static Azurite? _shared;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private Azurite(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    /// <summary>A container name no other test uses.</summary>
    public static string NewContainerName() => "spool-" + Guid.NewGuid().ToString("N");

    public static async Task<Azurite> SharedAsync()
    {
        await StartLock.WaitAsync();
        try
        {
            if (_shared is { _process.HasExited: false } running)
            {
                return running;
            }

            _shared = await StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => _shared?.Kill();
            return _shared;
        }
        finally
        {
            StartLock.Release();
        }
    }

    private static async Task<Azurite> StartAsync()
    {
        var executable = Repo.PathOf("tests", "tools", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed ({executable}); run `npm ci --prefix tests/tools`.");
        }

        var port = Loopback.FreePort();
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        var azurite = new Azurite(process, port);
        process.OutputDataReceived += (_, e) => azurite.Append(e.Data);
        process.ErrorDataReceived += (_, e) => azurite.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with {process.ExitCode}: {azurite.Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return azurite;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        azurite.Kill();
        throw new TimeoutException($"Azurite did not listen on {port} within 60 s: {azurite.Output}");
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
