using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using ReplayProxy.FunctionsHost.Rpc;

namespace ReplayProxy.FunctionsHost;

/// <summary>One loaded HTTP-triggered function: its id, the trigger parameter's name and its route.</summary>
internal sealed record HttpFunction(string Name, string FunctionId, string TriggerName, string Template, IReadOnlySet<string> Methods, TemplateMatcher Matcher);

/// <summary>
/// The host's route table: <c>routePrefix/route</c> per HTTP trigger of the worker's metadata, with the listed methods
/// as a constraint. A path or method no trigger lists has no match, which the host answers 404 (never 405).
/// </summary>
internal sealed class FunctionRouteTable(IReadOnlyList<HttpFunction> functions)
{
    public IReadOnlyList<HttpFunction> Functions { get; } = functions;

    public static FunctionRouteTable From(IEnumerable<RpcFunctionMetadata> metadata, string routePrefix)
    {
        var functions = new List<HttpFunction>();
        foreach (var function in metadata)
        {
            foreach (var raw in function.RawBindings)
            {
                using var binding = JsonDocument.Parse(raw);
                var root = binding.RootElement;
                if (!Property(root, "type").Equals("httpTrigger", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var route = root.TryGetProperty("route", out var r) && r.GetString() is { Length: > 0 } value ? value : function.Name;
                var template = string.IsNullOrEmpty(routePrefix) ? route.Trim('/') : $"{routePrefix}/{route.Trim('/')}";
                var methods = root.TryGetProperty("methods", out var m) && m.ValueKind == JsonValueKind.Array
                    ? m.EnumerateArray().Select(x => x.GetString()!.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal)
                    : new HashSet<string>(StringComparer.Ordinal);
                var matcher = new TemplateMatcher(TemplateParser.Parse(template), new RouteValueDictionary());
                functions.Add(new HttpFunction(function.Name, function.FunctionId, Property(root, "name"), template, methods, matcher));
            }
        }

        return new FunctionRouteTable(functions);
    }

    /// <summary>The function whose template and methods match, with its route values; null when none does.</summary>
    public (HttpFunction Function, RouteValueDictionary Values)? Match(string method, PathString path)
    {
        foreach (var function in Functions)
        {
            // No methods listed means every method, as in the host.
            if (function.Methods.Count > 0 && !function.Methods.Contains(method.ToUpperInvariant()))
            {
                continue;
            }

            var values = new RouteValueDictionary();
            if (function.Matcher.TryMatch(path, values))
            {
                return (function, values);
            }
        }

        return null;
    }

    private static string Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.GetString() ?? string.Empty;
            }
        }

        return string.Empty;
    }
}
