// Loaded by the runtime before Main when DOTNET_STARTUP_HOOKS names this assembly (bench/profile.sh does).
// Once a second it appends one line to $ALLOC_PROBE_OUT ("{pid}" in it becomes the process id, so that a parent and
// the child it starts with the same environment, the test host and its worker, write apart):
//   unix_ms total_allocated_bytes gen0 gen1 gen2 pause_ms heap_bytes threadpool_threads working_set_bytes
using System.Diagnostics;

internal static class StartupHook
{
    public static void Initialize()
    {
        var path = Environment.GetEnvironmentVariable("ALLOC_PROBE_OUT");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        path = path.Replace("{pid}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var thread = new Thread(() =>
        {
            using var writer = new StreamWriter(path, append: true) { AutoFlush = true };
            var process = Process.GetCurrentProcess();
            while (true)
            {
                process.Refresh();
                writer.WriteLine(string.Join(' ',
                    DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    GC.GetTotalAllocatedBytes(precise: false),
                    GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
                    (long)GC.GetTotalPauseDuration().TotalMilliseconds,
                    GC.GetGCMemoryInfo().HeapSizeBytes,
                    ThreadPool.ThreadCount,
                    process.WorkingSet64));
                Thread.Sleep(1000);
            }
        })
        { IsBackground = true, Name = "alloc-probe" };
        thread.Start();
    }
}
