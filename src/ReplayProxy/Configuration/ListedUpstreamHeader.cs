using Microsoft.Extensions.Configuration;

namespace ReplayProxy;

/// <summary>
/// An upstream header in list form, <c>UpstreamHeaders:&lt;n&gt;:Name</c> and <c>:Value</c> (as YARP's transforms
/// take them): the form for hosts whose setting names cannot hold a header name, such as Azure app settings
/// (<c>ReplayProxy__UpstreamHeaders__0__Name=X-Proxy-Auth</c>). A child of <c>UpstreamHeaders</c> whose key is all
/// digits and which has children is a list entry; any other child is the map form, <c>UpstreamHeaders:&lt;Name&gt;</c>.
/// </summary>
internal sealed record ListedUpstreamHeader(string Index, string? Name, string? Value)
{
    public const string NameKey = "Name";
    public const string ValueKey = "Value";

    public static bool IsListEntry(IConfigurationSection child) =>
        child.Key.Length > 0 && child.Key.All(char.IsAsciiDigit) && child.GetChildren().Any();

    /// <summary>Moves the list entries of <paramref name="upstreamHeaders"/> into <paramref name="options"/>.</summary>
    public static void Read(IConfigurationSection upstreamHeaders, ReplayProxyOptions options)
    {
        foreach (var child in upstreamHeaders.GetChildren().Where(IsListEntry))
        {
            // A value on the entry's own key is not a header named "0": the entry's children say what it is.
            options.UpstreamHeaders.Remove(child.Key);
            options.ListedUpstreamHeaders.Add(new(child.Key, child[NameKey], child[ValueKey]));
        }
    }
}
