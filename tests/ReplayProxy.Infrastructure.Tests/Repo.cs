namespace ReplayProxy.Infrastructure.Tests;

/// <summary>Reads files from the repository (root found by <see cref="Testing.Repo"/>).</summary>
internal static class Repo
{
    public static string Root => Testing.Repo.Root;

    public static string Infra => Path.Combine(Root, "infra");

    public static string PathOf(params string[] parts) => Testing.Repo.PathOf(parts);

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
}
