namespace ReplayProxy;

/// <summary>Comma-separated settings such as <c>AllowedOrigins</c>.</summary>
internal static class SettingList
{
    public static string[] Split(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
