namespace ReplayProxy.Functions.Tests;

/// <summary>Paths in the repository, found from the test's output directory.</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

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
