namespace ReplayProxy.Testing;

/// <summary>Finds captured log lines that carry a secret.</summary>
public static class LogSecrets
{
    /// <summary>Each log line (message and structured state) that contains one of <paramref name="secrets"/>, as
    /// "category: message" with the secret itself masked.</summary>
    public static IReadOnlyList<string> Find(CapturingLoggerProvider logs, IReadOnlyCollection<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(logs);
        ArgumentNullException.ThrowIfNull(secrets);
        var leaks = new List<string>();
        foreach (var entry in logs.Entries)
        {
            var text = entry.Message + " " + entry.State;
            foreach (var secret in secrets)
            {
                if (text.Contains(secret, StringComparison.Ordinal))
                {
                    leaks.Add($"{entry.Category}: {entry.Message.Replace(secret, "***", StringComparison.Ordinal)}");
                    break;
                }
            }
        }

        return leaks;
    }
}
