using System.Text;
using System.Text.RegularExpressions;

namespace ReplayProxy.Infrastructure.Tests;

/// <summary>A resource declaration: symbol, type, API version, whether it is <c>existing</c>, and its body text.</summary>
internal sealed record BicepResource(string File, string Symbol, string Type, string ApiVersion, bool Existing, string Body);

/// <summary>A parameter declaration with the decorators written above it.</summary>
internal sealed record BicepParam(string Name, string Type, string? Default, string Decorators);

/// <summary>
/// Just enough Bicep reading for structural checks: comment removal that respects strings,
/// and brace matching for resource bodies. Not a parser; the template is written to suit it
/// (no resource loops, full resource types on every declaration).
/// </summary>
internal static partial class Bicep
{
    /// <summary>Replaces // and /* */ comments by spaces (newlines kept), leaving string literals intact.</summary>
    public static string StripComments(string text)
    {
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            if (StartsWith(text, i, "'''"))
            {
                var end = text.IndexOf("'''", i + 3, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 3;
                sb.Append(text, i, end - i);
                i = end;
            }
            else if (text[i] == '\'')
            {
                var j = i + 1;
                while (j < text.Length && text[j] != '\'')
                {
                    j += text[j] == '\\' ? 2 : 1;
                }

                j = Math.Min(j + 1, text.Length);
                sb.Append(text, i, j - i);
                i = j;
            }
            else if (StartsWith(text, i, "//"))
            {
                while (i < text.Length && text[i] != '\n')
                {
                    sb.Append(' ');
                    i++;
                }
            }
            else if (StartsWith(text, i, "/*"))
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end + 2;
                for (; i < end; i++)
                {
                    sb.Append(text[i] == '\n' ? '\n' : ' ');
                }
            }
            else
            {
                sb.Append(text[i]);
                i++;
            }
        }

        return sb.ToString();
    }

    public static IReadOnlyList<BicepResource> Resources(string file, string text)
    {
        var code = StripComments(text);
        var result = new List<BicepResource>();
        foreach (Match m in ResourceHeader().Matches(code))
        {
            var open = FindBodyStart(code, m.Index + m.Length);
            var close = MatchBrace(code, open);
            result.Add(new BicepResource(
                file,
                m.Groups["symbol"].Value,
                m.Groups["type"].Value,
                m.Groups["version"].Value,
                m.Groups["existing"].Success,
                code.Substring(open, close - open + 1)));
        }

        return result;
    }

    public static IReadOnlyList<BicepResource> AllResources() =>
        Repo.BicepFiles().SelectMany(f => Resources(f.Path, f.Text)).ToList();

    public static IReadOnlyList<BicepParam> Params(string text)
    {
        var code = StripComments(text);
        var result = new List<BicepParam>();
        var previousEnd = 0;
        foreach (Match m in ParamLine().Matches(code))
        {
            var decorators = code[previousEnd..m.Index];
            var lastStatement = decorators.LastIndexOf("\n\n", StringComparison.Ordinal);
            result.Add(new BicepParam(
                m.Groups["name"].Value,
                m.Groups["type"].Value,
                m.Groups["default"].Success ? m.Groups["default"].Value.Trim() : null,
                lastStatement >= 0 ? decorators[lastStatement..] : decorators));
            previousEnd = m.Index + m.Length;
        }

        return result;
    }

    public static IReadOnlyList<string> Outputs(string text) =>
        OutputLine().Matches(StripComments(text)).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>The body of the one resource of this type in the given files (fails when absent or ambiguous).</summary>
    public static BicepResource Single(string type, bool existing = false)
    {
        var matches = AllResources()
            .Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase) && r.Existing == existing)
            .ToList();
        Assert.True(matches.Count == 1, $"expected exactly one {(existing ? "existing " : string.Empty)}{type}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>Whitespace-insensitive "contains" for snippets such as <c>mode: 'Prevention'</c>.</summary>
    public static bool Has(string body, string pattern) =>
        Regex.IsMatch(body, pattern, RegexOptions.Multiline, TimeSpan.FromSeconds(5));

    /// <summary>The bracketed value of <c>key:</c> in a body (an object or array, brackets included), or null.</summary>
    public static string? ValueOf(string body, string key)
    {
        var m = Regex.Match(body, $@"(?<![\w'-]){Regex.Escape(key)}:\s*(?=[\[{{])", RegexOptions.None, TimeSpan.FromSeconds(5));
        if (!m.Success)
        {
            return null;
        }

        var start = m.Index + m.Length;
        var close = MatchBracket(body, start);
        return body.Substring(start, close - start + 1);
    }

    private static int FindBodyStart(string code, int from)
    {
        var depth = 0;
        for (var i = from; i < code.Length; i++)
        {
            switch (code[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case '{' when depth == 0:
                    return i;
            }
        }

        throw new InvalidOperationException("resource body not found");
    }

    private static int MatchBrace(string code, int open) => MatchBracket(code, open);

    private static int MatchBracket(string code, int open)
    {
        var opener = code[open];
        var closer = opener == '[' ? ']' : '}';
        var depth = 0;
        for (var i = open; i < code.Length; i++)
        {
            if (StartsWith(code, i, "'''"))
            {
                i = code.IndexOf("'''", i + 3, StringComparison.Ordinal) + 2;
                continue;
            }

            if (code[i] == '\'')
            {
                i++;
                while (i < code.Length && code[i] != '\'')
                {
                    i += code[i] == '\\' ? 2 : 1;
                }

                continue;
            }

            if (code[i] == opener)
            {
                depth++;
            }
            else if (code[i] == closer && --depth == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException("unbalanced braces");
    }

    private static bool StartsWith(string text, int index, string value) =>
        string.CompareOrdinal(text, index, value, 0, value.Length) == 0;

    [GeneratedRegex(@"^\s*resource\s+(?<symbol>\w+)\s+'(?<type>[A-Za-z0-9.]+/[A-Za-z0-9./]+)@(?<version>[^']+)'\s+(?<existing>existing\s+)?=", RegexOptions.Multiline)]
    private static partial Regex ResourceHeader();

    [GeneratedRegex(@"^param\s+(?<name>\w+)\s+(?<type>[\w.\[\]?]+)(?:[ \t]*=[ \t]*(?<default>[^\n]+))?[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex ParamLine();

    [GeneratedRegex(@"^output\s+(?<name>\w+)\s", RegexOptions.Multiline)]
    private static partial Regex OutputLine();
}
