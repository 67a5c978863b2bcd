namespace ReplayProxy;

/// <summary>
/// <c>ReplayProxy:Spool:*</c>: keeping uploads through an Amplitude outage. Off unless a store is set: a directory
/// (the standalone host) or a Blob container (the Functions app).
/// </summary>
public sealed class SpoolOptions
{
    public const int DefaultAnswerWithinMilliseconds = 8000;
    public const int DefaultMaxAgeSeconds = 24 * 60 * 60;
    public const long DefaultMaxBytes = 1024L * 1024 * 1024;
    public const int DefaultRetryMaxSeconds = 60;
    public const string DefaultBlobContainerName = "replay-spool";

    /// <summary>Directory of the file store (the standalone host). One process per directory.</summary>
    public string? Directory { get; set; }

    /// <summary>Blob service endpoint of the Blob store (the Functions app), reached with a managed identity.</summary>
    public string? BlobServiceUri { get; set; }

    /// <summary>Client id of the user-assigned identity for <see cref="BlobServiceUri"/>; empty: the system-assigned one.</summary>
    public string? BlobClientId { get; set; }

    /// <summary>A storage connection string instead of <see cref="BlobServiceUri"/> (local development, Azurite).</summary>
    public string? BlobConnectionString { get; set; }

    public string BlobContainerName { get; set; } = DefaultBlobContainerName;

    /// <summary>How long an upload waits for Amplitude before it is kept instead (below the replay SDK's 10 s): an idle
    /// deadline, from the upload's last byte sent (or any progress) to Amplitude's answer.</summary>
    public int AnswerWithinMilliseconds { get; set; } = DefaultAnswerWithinMilliseconds;

    /// <summary>Kept uploads older than this are dropped instead of delivered.</summary>
    public int MaxAgeSeconds { get; set; } = DefaultMaxAgeSeconds;

    /// <summary>The store's size bound, bodies and headers together.</summary>
    public long MaxBytes { get; set; } = DefaultMaxBytes;

    /// <summary>The longest wait between delivery attempts while Amplitude keeps failing.</summary>
    public int RetryMaxSeconds { get; set; } = DefaultRetryMaxSeconds;

    internal bool UsesDirectory => !string.IsNullOrWhiteSpace(Directory);

    internal bool UsesBlob => !string.IsNullOrWhiteSpace(BlobServiceUri) || !string.IsNullOrWhiteSpace(BlobConnectionString);

    internal bool Enabled => UsesDirectory || UsesBlob;
}
