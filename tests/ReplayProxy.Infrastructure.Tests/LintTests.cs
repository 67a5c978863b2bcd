using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>No fixture: runs beside the tests on the compiled template (bicep build's own diagnostics are checked there).</summary>
public class LintTests
{
    public static TheoryData<string> BicepFiles() => new(Files());

    private static IEnumerable<string> Files() =>
        Directory.GetFiles(Repo.Infra, "*.bicep", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(file => Path.GetRelativePath(Repo.Root, file).Replace('\\', '/'));

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public void LintReportsNoErrorsAndNoWarnings(string file)
    {
        var run = BicepCli.Run(Repo.Root, "lint", file, "--diagnostics-format", "sarif");
        Assert.True(run.StdOut.Length > 0, $"bicep lint {file} printed no SARIF:\n{run.StdErr}");
        using var sarif = JsonDocument.Parse(run.StdOut);
        var results = sarif.RootElement.GetProperty("runs").EnumerateArray()
            .SelectMany(r => r.GetProperty("results").EnumerateArray())
            .Select(r =>
            {
                var level = r.TryGetProperty("level", out var l) ? l.GetString() : "warning";
                var where = r.GetProperty("locations")[0].GetProperty("physicalLocation");
                var line = where.GetProperty("region").GetProperty("startLine").GetInt32();
                var uri = where.GetProperty("artifactLocation").GetProperty("uri").GetString();
                return $"{level} {r.GetProperty("ruleId").GetString()} at {uri}:{line}: {r.GetProperty("message").GetProperty("text").GetString()}";
            })
            .ToList();
        Assert.True(results.Count == 0 && run.ExitCode == 0, $"bicep lint {file} (exit {run.ExitCode}):\n" + string.Join('\n', results) + run.StdErr);
    }

    [Fact]
    public void EveryDisabledRuleSaysWhy()
    {
        foreach (var file in Files())
        {
            var lines = File.ReadAllLines(Repo.PathOf(file));
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("#disable-", StringComparison.Ordinal))
                {
                    var reason = line.IndexOf("//", StringComparison.Ordinal);
                    Assert.True(reason > 0 && line[(reason + 2)..].Trim().Length > 10, $"{file}:{i + 1} disables a rule without a // reason");
                }
            }
        }
    }
}
