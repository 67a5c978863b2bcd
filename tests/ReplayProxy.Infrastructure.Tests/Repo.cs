namespace ReplayProxy.Infrastructure.Tests;

/// <summary>Locates the repository root (the directory holding ReplayFunctions.sln) and reads files from it.</summary>
internal static class Repo
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Infra => Path.Combine(Root, "infra");

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts)
    {
        var path = PathOf(parts);
        Assert.True(File.Exists(path), $"missing file {path}");
        return File.ReadAllText(path);
    }

    /// <summary>Every .bicep file under infra/, as (path relative to the root, text).</summary>
    public static IReadOnlyList<(string Path, string Text)> BicepFiles()
    {
        Assert.True(Directory.Exists(Infra), "infra/ is missing");
        var files = Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories)
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetRelativePath(Root, p).Replace('\\', '/'), File.ReadAllText(p)))
            .ToList();
        Assert.NotEmpty(files);
        return files;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ReplayFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("ReplayFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
