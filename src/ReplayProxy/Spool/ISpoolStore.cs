namespace ReplayProxy.Spool;

/// <summary>
/// Where kept uploads wait for Amplitude: the file store (standalone host) or Blob Storage (Functions app). An item is
/// added only once it is durable, listed oldest first, and claimed before delivery so that no two delivery loops send
/// it at the same time.
/// </summary>
internal interface ISpoolStore : IAsyncDisposable
{
    /// <summary><c>file</c> or <c>blob</c>, for health and telemetry.</summary>
    string Kind { get; }

    /// <summary>Where a request body larger than the in-memory bound is spilled while it streams upstream.</summary>
    string SpillDirectory { get; }

    /// <summary>What the store holds, as last seen (exact for the file store; the last listing plus this instance's
    /// own changes for Blob).</summary>
    SpoolStats Stats { get; }

    /// <summary>Takes the store for this process (the file store's lock); throws with a message naming the setting.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="request"/> with the body read from <paramref name="body"/>; true only once it is
    /// durable (fsync'd, or a committed blob). False when it would pass the size bound.</summary>
    Task<bool> TryAddAsync(SpooledRequest request, Stream body, long bodyLength, CancellationToken cancellationToken);

    /// <summary>The items waiting, oldest first.</summary>
    Task<IReadOnlyList<SpoolEntry>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The item for this loop alone until the claim is disposed; null when another loop has it or it is gone.</summary>
    Task<ISpoolClaim?> TryClaimAsync(SpoolEntry entry, CancellationToken cancellationToken);
}

/// <summary>One stored item as listed.</summary>
internal sealed record SpoolEntry(string Name, DateTimeOffset Created, long Bytes);

internal readonly record struct SpoolStats(long Depth, long Bytes, DateTimeOffset? Oldest);

/// <summary>An item held by one delivery loop; disposing releases it (unless deleted).</summary>
internal interface ISpoolClaim : IAsyncDisposable
{
    SpoolEntry Entry { get; }

    /// <summary>The request, and its body as a stream of <c>BodyLength</c> bytes (owned by the claim).</summary>
    Task<(SpooledRequest Request, Stream Body, long BodyLength)> ReadAsync(CancellationToken cancellationToken);

    Task DeleteAsync(CancellationToken cancellationToken);
}

/// <summary>Item names sort oldest first: UTC ticks, zero-padded, then a random part.</summary>
internal static class SpoolNames
{
    public static string New(DateTimeOffset created) => $"{created.UtcTicks:D19}-{Guid.NewGuid():N}";

    public static bool TryParseCreated(string name, out DateTimeOffset created)
    {
        created = default;
        if (name.Length < 20 || name[19] != '-' || !long.TryParse(name.AsSpan(0, 19), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            || ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        created = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}
