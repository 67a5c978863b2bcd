namespace ReplayProxy.ConfigFallback;

/// <summary>One remembered config answer: the body as it was relayed (Amplitude's bytes, SDK diagnostics switched off
/// unless allowed), with what is needed to serve it again.</summary>
internal sealed record RememberedConfig(string Key, byte[] Body, string? ContentType, string? ContentEncoding, DateTimeOffset StoredAt);

/// <summary>
/// The last good config answer per upstream path and query, in memory only, bounded in entries (least recently used
/// goes first). The key holds the API key: it is never logged.
/// </summary>
internal sealed class ConfigMemory(int capacity, TimeProvider time)
{
    /// <summary>The largest body remembered, on the wire and decoded; also the most the proxy decodes of a config answer.</summary>
    public const int MaxEntryBytes = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<RememberedConfig>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<RememberedConfig> _recency = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public void Remember(string key, byte[] body, string? contentType, string? contentEncoding)
    {
        var entry = new RememberedConfig(key, body, contentType, contentEncoding, time.GetUtcNow());
        lock (_lock)
        {
            if (_entries.Remove(key, out var existing))
            {
                _recency.Remove(existing);
            }

            _entries[key] = _recency.AddFirst(entry);
            while (_entries.Count > capacity && _recency.Last is { } oldest)
            {
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
            }
        }
    }

    /// <summary>The remembered answer for <paramref name="key"/> if it is younger than <paramref name="limit"/>;
    /// an older one is forgotten.</summary>
    public RememberedConfig? Recall(string key, TimeSpan limit)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            if (time.GetUtcNow() - node.Value.StoredAt >= limit)
            {
                _entries.Remove(key);
                _recency.Remove(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }
    }

    public void Forget(string key)
    {
        lock (_lock)
        {
            if (_entries.Remove(key, out var node))
            {
                _recency.Remove(node);
            }
        }
    }

    public TimeSpan AgeOf(RememberedConfig entry)
    {
        var age = time.GetUtcNow() - entry.StoredAt;
        return age < TimeSpan.Zero ? TimeSpan.Zero : age;
    }
}
