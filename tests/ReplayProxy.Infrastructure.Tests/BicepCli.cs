using System.Diagnostics;
using System.Reflection;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>
/// The real Bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package (restored by PackageDownload; the
/// project file bakes its path into the assembly's metadata).
/// </summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string Path { get; } = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepCli").Value!;

    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public string Output => StdOut + StdErr;
    }

    public static Result Run(string workingDirectory, params string[] arguments)
    {
        Assert.True(File.Exists(Path), $"Bicep CLI not found at {Path}; run dotnet restore on this project");
        if (!OperatingSystem.IsWindows())
        {
            // NuGet extraction keeps the owner's execute bit only; CI may run as another user.
            var mode = File.GetUnixFileMode(Path);
            const UnixFileMode executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & executable) != executable)
            {
                try
                {
                    File.SetUnixFileMode(Path, mode | executable);
                }
                catch (UnauthorizedAccessException)
                {
                    // Not the owner: the owner's bit is what counts for them, and Process.Start reports the rest.
                }
            }
        }

        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry from CI runs.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Path);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}");
        }

        return new Result(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
