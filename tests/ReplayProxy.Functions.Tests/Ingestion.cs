using System.IO.Compression;
using System.Text;

namespace ReplayProxy.Functions.Tests;

/// <summary>What a fake Azure Monitor ingestion endpoint (a <see cref="FakeAmplitude"/>) received from the worker.</summary>
internal static class Ingestion
{
    /// <summary>Each request body the ingestion fake received, gunzipped when sent with gzip.</summary>
    public static List<string> Items(FakeAmplitude ingestion) =>
        ingestion.Received.Select(r =>
        {
            if (r.Header("Content-Encoding") is not { } encoding || !encoding.Contains("gzip", StringComparison.OrdinalIgnoreCase))
            {
                return Encoding.UTF8.GetString(r.Body!);
            }

            using var gzip = new GZipStream(new MemoryStream(r.Body!), CompressionMode.Decompress);
            using var text = new StreamReader(gzip, Encoding.UTF8);
            return text.ReadToEnd();
        }).ToList();

    /// <summary>Each telemetry item (one JSON line of a request body).</summary>
    public static List<string> Lines(FakeAmplitude ingestion) =>
        Items(ingestion).SelectMany(body => body.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
}
