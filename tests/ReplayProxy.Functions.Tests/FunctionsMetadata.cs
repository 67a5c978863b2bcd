using System.Text.Json;

namespace ReplayProxy.Functions.Tests;

/// <summary>One HTTP trigger as the worker SDK wrote it into <c>functions.metadata</c>.</summary>
internal sealed record Trigger(string Name, string Route, IReadOnlyList<string> Methods, string AuthLevel);

internal static class FunctionsMetadata
{
    /// <summary>A file in the Functions app's own build output (same configuration as this test build).</summary>
    public static string OutputFile(string name)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        return Repo.PathOf("src", "ReplayProxy.Functions", "bin", configuration, framework.Name, name);
    }

    public static IReadOnlyList<Trigger> Triggers(string metadataJson)
    {
        using var document = JsonDocument.Parse(metadataJson);
        var triggers = new List<Trigger>();
        foreach (var function in document.RootElement.EnumerateArray())
        {
            foreach (var binding in function.GetProperty("bindings").EnumerateArray())
            {
                if (!binding.GetProperty("type").GetString()!.Equals("httpTrigger", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                triggers.Add(new Trigger(
                    function.GetProperty("name").GetString()!,
                    binding.GetProperty("route").GetString()!,
                    // No methods listed means every method, as in the host.
                    binding.TryGetProperty("methods", out var methods) && methods.ValueKind == JsonValueKind.Array
                        ? methods.EnumerateArray().Select(m => m.GetString()!).ToList()
                        : [],
                    binding.GetProperty("authLevel").GetString()!));
            }
        }

        return triggers;
    }
}
