using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>A resource declared in a compiled ARM template, with the module (nested deployment) it sits in.</summary>
public sealed record ArmResource(string Module, JsonElement Json)
{
    public string Type => Json.GetProperty("type").GetString()!;

    public string ApiVersion => Json.GetProperty("apiVersion").GetString()!;

    public bool Existing => Json.TryGetProperty("existing", out var e) && e.GetBoolean();

    public string? Condition => Json.TryGetProperty("condition", out var c) ? c.ToString() : null;

    public JsonElement Properties => Json.GetProperty("properties");
}

/// <summary>Walks a compiled template: main's resources and those of every module it nests.</summary>
public static class ArmTemplate
{
    public const string Deployments = "Microsoft.Resources/deployments";

    /// <summary>Every resource in the template and, recursively, in the inline templates of its modules.</summary>
    public static IEnumerable<ArmResource> AllResources(JsonElement template, string module = "main")
    {
        foreach (var resource in Resources(template))
        {
            var r = new ArmResource(module, resource);
            yield return r;
            if (r.Type == Deployments && r.Properties.TryGetProperty("template", out var nested))
            {
                foreach (var inner in AllResources(nested, r.Json.GetProperty("name").GetString()!))
                {
                    yield return inner;
                }
            }
        }
    }

    /// <summary>The modules main.bicep calls, by deployment name (an ARM expression for computed names).</summary>
    public static IReadOnlyList<ArmResource> Modules(JsonElement template) =>
        Resources(template).Select(r => new ArmResource("main", r)).Where(r => r.Type == Deployments).ToList();

    /// <summary>The module deployed under <paramref name="name"/>, or under a computed name that starts with it.</summary>
    public static ArmResource Module(JsonElement template, string name) =>
        Assert.Single(Modules(template), m => m.Json.GetProperty("name").GetString() is { } n && (n == name || n.StartsWith($"[format('{name}", StringComparison.Ordinal)));

    /// <summary>The single non-existing resource of a type anywhere in the template.</summary>
    public static ArmResource Single(JsonElement template, string type) =>
        Assert.Single(AllResources(template), r => r.Type.Equals(type, StringComparison.OrdinalIgnoreCase) && !r.Existing);

    /// <summary>The value a module passes for one of its parameters (an ARM expression or a literal).</summary>
    public static string ModuleParameter(ArmResource module, string name) =>
        module.Properties.GetProperty("parameters").GetProperty(name).GetProperty("value").ToString();

    /// <summary>Template parameters by name (languageVersion 1.0 and 2.0 both use an object).</summary>
    public static JsonElement Parameter(JsonElement template, string name)
    {
        Assert.True(template.GetProperty("parameters").TryGetProperty(name, out var p), $"template has no parameter {name}");
        return p;
    }

    private static IEnumerable<JsonElement> Resources(JsonElement template)
    {
        if (!template.TryGetProperty("resources", out var resources))
        {
            return [];
        }

        // languageVersion 2.0 templates (Bicep with user-defined types or existing resources) key resources by symbol.
        return resources.ValueKind == JsonValueKind.Object
            ? resources.EnumerateObject().Select(p => p.Value)
            : resources.EnumerateArray();
    }
}
