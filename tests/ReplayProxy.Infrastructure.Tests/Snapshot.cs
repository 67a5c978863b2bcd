using System.Text.Json;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>
/// `bicep snapshot` of main.bicep for one set of parameter values: the ARM engine's offline evaluation of the
/// compiled template, giving the resources a deployment would send (expressions resolved wherever they do not
/// depend on a deployed resource) or the error a <c>fail()</c> check raises.
/// </summary>
public sealed class Snapshot
{
    public const string SubscriptionId = "00000000-0000-0000-0000-00000000c1c1";
    public const string TenantId = "00000000-0000-0000-0000-00000000717e";

    private Snapshot(BicepCli.Result run, JsonElement? root)
    {
        Run = run;
        Root = root;
    }

    public BicepCli.Result Run { get; }

    public JsonElement? Root { get; }

    public bool Succeeded => Run.ExitCode == 0 && Root is not null;

    public IReadOnlyList<JsonElement> Resources =>
        Evaluated.GetProperty("predictedResources").EnumerateArray().ToList();

    public JsonElement Outputs => Evaluated.GetProperty("outputs");

    private JsonElement Evaluated
    {
        get
        {
            Assert.True(Succeeded, "bicep snapshot failed:\n" + Run.Output);
            return Root!.Value;
        }
    }

    public IReadOnlyList<JsonElement> OfType(string type) =>
        Resources.Where(r => r.GetProperty("type").GetString()!.Equals(type, StringComparison.OrdinalIgnoreCase)).ToList();

    public JsonElement Single(string type) => Assert.Single(OfType(type));

    public string Output(string name) => Outputs.GetProperty(name).ToString();

    /// <summary>Writes a .bicepparam next to a copy of main.bicep (it must be referenced by a relative path) and runs the snapshot.</summary>
    public static Snapshot Take(string infraCopy, string name, IReadOnlyDictionary<string, object> parameters, string template = "main.bicep")
    {
        var lines = new List<string> { $"using '{template}'" };
        lines.AddRange(parameters.Select(p => $"param {p.Key} = {Literal(p.Value)}"));
        var file = Path.Combine(infraCopy, name + ".bicepparam");
        File.WriteAllLines(file, lines);

        var run = BicepCli.Run(
            infraCopy,
            "snapshot", file,
            "--mode", "overwrite",
            "--subscription-id", SubscriptionId,
            "--tenant-id", TenantId,
            "--location", "swedencentral",
            "--deployment-name", name);
        var output = Path.ChangeExtension(file, ".snapshot.json");
        JsonElement? root = run.ExitCode == 0 && File.Exists(output)
            ? JsonDocument.Parse(File.ReadAllText(output)).RootElement.Clone()
            : null;
        return new Snapshot(run, root);
    }

    private static string Literal(object value) => value switch
    {
        string s => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        int i => i.ToString(System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IEnumerable<string> strings => "[" + string.Join(", ", strings.Select(Literal)) + "]",
        IEnumerable<IReadOnlyDictionary<string, object>> list => "[" + string.Join(", ", list.Select(Literal)) + "]",
        IReadOnlyDictionary<string, object> obj => "{" + string.Join(", ", obj.Select(p => $"{p.Key}: {Literal(p.Value)}")) + "}",
        _ => throw new ArgumentException($"no Bicep literal for {value.GetType()}", nameof(value)),
    };
}
