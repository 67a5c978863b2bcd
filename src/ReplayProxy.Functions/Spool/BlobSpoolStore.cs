using System.Net;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using ReplayProxy.Spool;

namespace ReplayProxy.Functions.Spool;

/// <summary>
/// The Functions app's store: one blob per kept upload in a private container of the app's own storage account. An
/// upload is acknowledged once its Put Blob (create-only, <c>If-None-Match: *</c>) has committed. Instances share the
/// container; a delivery loop holds a 60 s lease on an item while it sends it, so no two deliver it at the same time.
/// </summary>
internal sealed partial class BlobSpoolStore : ISpoolStore
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);
    private readonly BlobContainerClient _container;
    private readonly long _maxBytes;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private SpoolStats _listed;
    private long _addedSinceListing;
    private long _addedCountSinceListing;
    private DateTimeOffset? _oldestAddedSinceListing;
    private long _reserved;

    public BlobSpoolStore(BlobContainerClient container, long maxBytes, ILogger<BlobSpoolStore> logger)
    {
        _container = container;
        _maxBytes = maxBytes;
        _logger = logger;
    }

    public string Kind => "blob";

    /// <summary>Bodies over the in-memory bound spill to local temporary storage while they stream.</summary>
    public string SpillDirectory => Path.GetTempPath();

    public SpoolStats Stats
    {
        get
        {
            lock (_gate)
            {
                var oldest = _listed.Oldest is { } listed && (_oldestAddedSinceListing is null || listed <= _oldestAddedSinceListing) ? listed : _oldestAddedSinceListing;
                return new SpoolStats(_listed.Depth + _addedCountSinceListing, _listed.Bytes + _addedSinceListing, oldest);
            }
        }
    }

    /// <summary>The container from the settings: a connection string (Azurite, local development), or the service URI
    /// with the app's managed identity (user-assigned when a client id is given), as the Azure Monitor export does.</summary>
    public static BlobContainerClient Container(SpoolOptions options)
    {
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        if (!string.IsNullOrWhiteSpace(options.BlobConnectionString))
        {
            return new BlobContainerClient(options.BlobConnectionString, options.BlobContainerName, clientOptions);
        }

        TokenCredential credential = string.IsNullOrWhiteSpace(options.BlobClientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.BlobClientId));
        return new BlobServiceClient(new Uri(options.BlobServiceUri!), credential, clientOptions).GetBlobContainerClient(options.BlobContainerName);
    }

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        // The deployment creates the container; this covers Azurite and a first start before it exists. Storage
        // being unreachable must not stop the proxy: uploads then get today's answers and the loop retries.
        try
        {
            await _container.CreateIfNotExistsAsync(PublicAccessType.None, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is RequestFailedException or AuthenticationFailedException or HttpRequestException)
        {
            LogContainerUnavailable(_logger, _container.Name, ex.GetType().Name);
        }
    }

    public async Task<bool> TryAddAsync(SpooledRequest request, Stream body, long bodyLength, CancellationToken cancellationToken)
    {
        var header = request.Serialize();
        var total = header.Length + bodyLength;
        lock (_gate)
        {
            // Approximate across instances (the last listing plus this instance's own additions), as Relay's is.
            if (_listed.Bytes + _addedSinceListing + _reserved + total > _maxBytes)
            {
                return false;
            }

            _reserved += total;
        }

        try
        {
            await using var content = new ConcatenatedStream(header, body, total);
            await _container.GetBlobClient(SpoolNames.New(request.Created)).UploadAsync(content, new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                // One Put Blob: the item either exists whole or not at all.
                TransferOptions = new Azure.Storage.StorageTransferOptions { InitialTransferSize = 256L * 1024 * 1024, MaximumTransferSize = 256L * 1024 * 1024 },
            }, cancellationToken);
            lock (_gate)
            {
                _addedSinceListing += total;
                _addedCountSinceListing++;
                _oldestAddedSinceListing ??= request.Created;
            }

            return true;
        }
        finally
        {
            lock (_gate)
            {
                _reserved -= total;
            }
        }
    }

    public async Task<IReadOnlyList<SpoolEntry>> ListAsync(CancellationToken cancellationToken)
    {
        var entries = new List<SpoolEntry>();
        long bytes = 0;
        long addedBefore, addedCountBefore;
        lock (_gate)
        {
            addedBefore = _addedSinceListing;
            addedCountBefore = _addedCountSinceListing;
        }

        // Names are zero-padded UTC ticks and listings are alphabetical: oldest first.
        await foreach (var blob in _container.GetBlobsAsync(cancellationToken: cancellationToken))
        {
            if (SpoolNames.TryParseCreated(blob.Name, out var created))
            {
                var length = blob.Properties.ContentLength ?? 0;
                entries.Add(new SpoolEntry(blob.Name, created, length));
                bytes += length;
            }
        }

        lock (_gate)
        {
            // What this instance added before the listing began is in it; what it added since may not be.
            _listed = new SpoolStats(entries.Count, bytes, entries.Count > 0 ? entries[0].Created : null);
            _addedSinceListing -= addedBefore;
            _addedCountSinceListing -= addedCountBefore;
            if (_addedCountSinceListing == 0)
            {
                _oldestAddedSinceListing = null;
            }
        }

        return entries;
    }

    public async Task<ISpoolClaim?> TryClaimAsync(SpoolEntry entry, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(entry.Name);
        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LeaseDuration, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is (int)HttpStatusCode.Conflict or (int)HttpStatusCode.NotFound or (int)HttpStatusCode.PreconditionFailed)
        {
            // Another instance is delivering it, or has delivered it since the listing.
            return null;
        }

        return new Claim(this, blob, lease, entry);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private void Forget(long bytes)
    {
        lock (_gate)
        {
            _listed = new SpoolStats(Math.Max(0, _listed.Depth - 1), Math.Max(0, _listed.Bytes - bytes), _listed.Oldest);
        }
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "The spool container {Container} could not be checked or created ({ExceptionType}); kept uploads wait until Blob Storage answers")]
    private static partial void LogContainerUnavailable(ILogger logger, string container, string exceptionType);

    private sealed class Claim(BlobSpoolStore store, BlobClient blob, BlobLeaseClient lease, SpoolEntry entry) : ISpoolClaim
    {
        private Stream? _content;
        private bool _deleted;

        public SpoolEntry Entry => entry;

        public async Task<(SpooledRequest Request, Stream Body, long BodyLength)> ReadAsync(CancellationToken cancellationToken)
        {
            var download = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Conditions = new BlobRequestConditions { LeaseId = lease.LeaseId } }, cancellationToken);
            _content = download.Value.Content;
            var (request, headerLength) = await SpooledRequest.ReadAsync(_content, cancellationToken);
            return (request, _content, download.Value.Details.ContentLength - headerLength);
        }

        public async Task DeleteAsync(CancellationToken cancellationToken)
        {
            _content?.Dispose();
            try
            {
                await blob.DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == (int)HttpStatusCode.NotFound)
            {
            }

            _deleted = true;
            store.Forget(entry.Bytes);
        }

        public async ValueTask DisposeAsync()
        {
            if (_content is not null)
            {
                await _content.DisposeAsync();
            }

            if (!_deleted)
            {
                try
                {
                    await lease.ReleaseAsync();
                }
                catch (RequestFailedException)
                {
                    // It expires on its own within the lease duration.
                }
            }
        }
    }

    /// <summary>The serialized header followed by the body, as one forward-only stream of known length.</summary>
    private sealed class ConcatenatedStream(byte[] header, Stream body, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < header.Length)
            {
                var n = (int)Math.Min(buffer.Length, header.Length - _position);
                header.AsSpan((int)_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            var read = body.Read(buffer);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < header.Length)
            {
                return Read(buffer.Span);
            }

            var read = await body.ReadAsync(buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Registered by the Functions app so that <c>ReplayProxy:Spool:Blob*</c> settings select this store.</summary>
internal sealed class BlobSpoolStoreFactory(ILoggerFactory loggers) : IBlobSpoolStoreFactory
{
    public ISpoolStore Create(SpoolOptions options) =>
        new BlobSpoolStore(BlobSpoolStore.Container(options), options.MaxBytes, loggers.CreateLogger<BlobSpoolStore>());
}
