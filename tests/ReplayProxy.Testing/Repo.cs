namespace ReplayProxy.Testing;

/// <summary>Paths in the repository (the directory holding ReplayFunctions.sln), found from the test's output directory.</summary>
public static class Repo
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

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
