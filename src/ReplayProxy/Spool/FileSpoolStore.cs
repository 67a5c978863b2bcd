using System.Runtime.InteropServices;

namespace ReplayProxy.Spool;

/// <summary>
/// The standalone host's store: one file per kept upload in <c>ReplayProxy:Spool:Directory</c> (0700), each written
/// as a temporary file (0600), fsync'd, renamed into place, and the directory fsync'd, before the upload is
/// acknowledged. A lock file held for the process's life keeps a second process out of the directory.
/// </summary>
internal sealed partial class FileSpoolStore(string directory, long maxBytes) : ISpoolStore
{
    public const string ItemExtension = ".spool";
    public const string LockFileName = "spool.lock";
    private const string TempPrefix = ".tmp-";
    internal const string SpillPrefix = ".spill-";
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _directory = Path.GetFullPath(directory);
    private readonly SortedDictionary<string, long> _items = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _bytes;
    private long _reserved;
    private FileStream? _lock;

    public string Kind => "file";

    public string SpillDirectory => _directory;

    public SpoolStats Stats
    {
        get
        {
            lock (_gate)
            {
                DateTimeOffset? oldest = _items.Count > 0 && SpoolNames.TryParseCreated(_items.Keys.First(), out var created) ? created : null;
                return new(_items.Count, _bytes, oldest);
            }
        }
    }

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        var setting = $"{ReplayProxyOptions.SectionName}:Spool:Directory";
        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(_directory);
            }
            else
            {
                Directory.CreateDirectory(_directory, OwnerOnlyDirectory);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{setting} '{_directory}' cannot be created: {ex.Message}", ex);
        }

        var lockPath = Path.Combine(_directory, LockFileName);
        try
        {
            _lock = new FileStream(lockPath, OwnerOnly(new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None }));
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"{setting} '{_directory}' is in use by another process (it holds {LockFileName}); each proxy process needs a spool directory of its own.", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new InvalidOperationException($"{setting} '{_directory}' is not writable by this process: {ex.Message}", ex);
        }

        foreach (var path in Directory.EnumerateFiles(_directory))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith(TempPrefix, StringComparison.Ordinal) || name.StartsWith(SpillPrefix, StringComparison.Ordinal))
            {
                // Left by a process that died mid-write: never acknowledged, so never the only copy.
                File.Delete(path);
            }
            else if (name.EndsWith(ItemExtension, StringComparison.Ordinal) && SpoolNames.TryParseCreated(name, out _))
            {
                var length = new FileInfo(path).Length;
                _items[name] = length;
                _bytes += length;
            }
        }

        return Task.CompletedTask;
    }

    public async Task<bool> TryAddAsync(SpooledRequest request, Stream body, long bodyLength, CancellationToken cancellationToken)
    {
        var header = request.Serialize();
        var total = header.Length + bodyLength;
        lock (_gate)
        {
            if (_bytes + _reserved + total > maxBytes)
            {
                return false;
            }

            _reserved += total;
        }

        var name = SpoolNames.New(request.Created) + ItemExtension;
        var temp = Path.Combine(_directory, TempPrefix + name);
        var committed = false;
        try
        {
            await using (var file = new FileStream(temp, OwnerOnly(new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, PreallocationSize = total, Options = FileOptions.Asynchronous })))
            {
                await file.WriteAsync(header, cancellationToken);
                await body.CopyToAsync(file, cancellationToken);
                if (file.Length != total)
                {
                    throw new IOException("The body to keep was not the expected length.");
                }

                // fsync: the item must be on disk before the client hears it was kept.
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(_directory, name));
            SyncDirectory(_directory);
            committed = true;
            lock (_gate)
            {
                _items[name] = total;
                _bytes += total;
            }

            return true;
        }
        finally
        {
            lock (_gate)
            {
                _reserved -= total;
            }

            if (!committed)
            {
                TryDelete(temp);
            }
        }
    }

    public Task<IReadOnlyList<SpoolEntry>> ListAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IReadOnlyList<SpoolEntry> entries = _items
                .Select(item => SpoolNames.TryParseCreated(item.Key, out var created) ? new SpoolEntry(item.Key, created, item.Value) : null)
                .OfType<SpoolEntry>()
                .ToArray();
            return Task.FromResult(entries);
        }
    }

    public Task<ISpoolClaim?> TryClaimAsync(SpoolEntry entry, CancellationToken cancellationToken)
    {
        // One process per directory and one delivery loop per process: listed means ours.
        lock (_gate)
        {
            return Task.FromResult<ISpoolClaim?>(_items.ContainsKey(entry.Name) ? new Claim(this, entry) : null);
        }
    }

    public ValueTask DisposeAsync()
    {
        _lock?.Dispose();
        _lock = null;
        return ValueTask.CompletedTask;
    }

    /// <summary>A file for a spilled request body, owner-only, deleted when closed.</summary>
    internal static FileStream CreateSpillFile(string directory) =>
        new(Path.Combine(directory, SpillPrefix + Guid.NewGuid().ToString("N")), OwnerOnly(new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose,
        }));

    private static FileStreamOptions OwnerOnly(FileStreamOptions options)
    {
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        return options;
    }

    private void Remove(string name)
    {
        TryDelete(Path.Combine(_directory, name));
        lock (_gate)
        {
            if (_items.Remove(name, out var length))
            {
                _bytes -= length;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>fsync on the directory, so that the rename itself survives a crash. .NET cannot open a directory as a
    /// handle, hence open(2) with O_DIRECTORY.</summary>
    private static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var flags = OperatingSystem.IsLinux() ? LinuxDirectoryFlags : MacDirectoryFlags;
        var fd = Open(path, flags);
        if (fd < 0)
        {
            throw new IOException($"Cannot open the spool directory to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot sync the spool directory (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_RDONLY | O_DIRECTORY | O_CLOEXEC
    private const int LinuxDirectoryFlags = 0x0000 | 0x10000 | 0x80000;
    private const int MacDirectoryFlags = 0x0000 | 0x100000 | 0x1000000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    private sealed class Claim(FileSpoolStore store, SpoolEntry entry) : ISpoolClaim
    {
        private FileStream? _file;

        public SpoolEntry Entry => entry;

        public async Task<(SpooledRequest Request, Stream Body, long BodyLength)> ReadAsync(CancellationToken cancellationToken)
        {
            _file = new FileStream(Path.Combine(store._directory, entry.Name), FileMode.Open, FileAccess.Read, FileShare.Read, 16 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var (request, headerLength) = await SpooledRequest.ReadAsync(_file, cancellationToken);
            return (request, _file, _file.Length - headerLength);
        }

        public Task DeleteAsync(CancellationToken cancellationToken)
        {
            _file?.Dispose();
            store.Remove(entry.Name);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => _file?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
