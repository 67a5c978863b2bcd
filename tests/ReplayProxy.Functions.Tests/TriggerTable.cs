using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReplayProxy.Functions.Tests;

/// <summary>One HTTP trigger as declared: function name, route, methods, auth level.</summary>
internal sealed record Trigger(string Name, string Route, IReadOnlyList<string> Methods, string AuthLevel);

internal static partial class TriggerTable
{
    /// <summary>The triggers as written in ReplayFunctions.cs, with <c>ReplayRouteTemplates.X</c> resolved from the core.</summary>
    public static IReadOnlyList<Trigger> FromSource()
    {
        var source = File.ReadAllText(Repo.PathOf("src", "ReplayProxy.Functions", "ReplayFunctions.cs"));
        var triggers = new List<Trigger>();
        foreach (Match match in FunctionPattern().Matches(source))
        {
            var methods = MethodPattern().Matches(match.Groups["methods"].Value).Select(m => m.Groups[1].Value).ToList();
            triggers.Add(new Trigger(match.Groups["name"].Value, RouteConstant(match.Groups["route"].Value), methods, match.Groups["auth"].Value));
        }

        return triggers;
    }

    /// <summary>The triggers as the worker SDK wrote them into <c>functions.metadata</c>.</summary>
    public static IReadOnlyList<Trigger> FromMetadata(string metadataJson)
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
                    binding.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToList(),
                    binding.GetProperty("authLevel").GetString()!));
            }
        }

        return triggers;
    }

    /// <summary>Every route of the core has exactly one anonymous trigger with its methods, named as the core names it.</summary>
    public static void AssertMatchesRouteTable(IReadOnlyList<Trigger> triggers)
    {
        Assert.Equal(ReplayRoute.All.Count, triggers.Count);
        foreach (var route in ReplayRoute.All)
        {
            var trigger = Assert.Single(triggers, t => route.Templates.Contains(t.Route, StringComparer.Ordinal));
            // The config route is declared once, with the catch-all template that also matches /config.
            Assert.Equal(route.Templates[^1], trigger.Route);
            Assert.Equal(route.Name, trigger.Name, ignoreCase: true);
            Assert.Equal("anonymous", trigger.AuthLevel, ignoreCase: true);
            Assert.Equal(
                route.Methods.Order(StringComparer.Ordinal),
                trigger.Methods.Select(m => m.ToUpperInvariant()).Order(StringComparer.Ordinal));
        }
    }

    private static string RouteConstant(string name) =>
        (string)typeof(ReplayRouteTemplates).GetField(name, BindingFlags.Public | BindingFlags.Static)!.GetRawConstantValue()!;

    [GeneratedRegex("""\[Function\("(?<name>[^"]+)"\)\]\s*public\s+Task\s+\w+\(\s*\[HttpTrigger\(AuthorizationLevel\.(?<auth>\w+),(?<methods>[^)]*?),\s*Route\s*=\s*ReplayRouteTemplates\.(?<route>\w+)\)\]\s*HttpRequest\s+\w+\)""")]
    private static partial Regex FunctionPattern();

    [GeneratedRegex("\"([a-zA-Z]+)\"")]
    private static partial Regex MethodPattern();
}

public class TriggerTableTests
{
    [Fact]
    public void Declared_triggers_match_the_core_route_table()
    {
        TriggerTable.AssertMatchesRouteTable(TriggerTable.FromSource());
    }

    [Fact]
    public void Every_function_attribute_is_recognised()
    {
        var source = File.ReadAllText(Repo.PathOf("src", "ReplayProxy.Functions", "ReplayFunctions.cs"));
        Assert.Equal(Regex.Matches(source, @"\[Function\(").Count, TriggerTable.FromSource().Count);
    }
}
