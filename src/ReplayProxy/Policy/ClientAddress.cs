using System.Net;
using Microsoft.AspNetCore.Http;

namespace ReplayProxy;

/// <summary>Decides the one client IP that goes upstream as <c>X-Forwarded-For</c>.</summary>
internal static class ClientAddress
{
    public const string AzureClientIpHeader = "X-Azure-ClientIP";
    public const string ForwardedForHeader = "X-Forwarded-For";

    /// <param name="trustEdge">True only when the request proved it came through our Front Door.</param>
    public static string? Resolve(HttpContext context, bool trustEdge)
    {
        if (trustEdge && TryParse(context.Request.Headers[AzureClientIpHeader].ToString(), out var edge))
        {
            return edge.ToString();
        }

        var peer = context.Connection.RemoteIpAddress;
        if (peer is null)
        {
            return null;
        }

        return (peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer).ToString();
    }

    /// <summary>Parses one IP address, with or without a port (<c>1.2.3.4:5</c>, <c>[::1]:5</c>); anything else fails.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out IPAddress address)
    {
        value = value.Trim();
        address = IPAddress.None;
        if (value.IsEmpty || value.Contains(','))
        {
            return false;
        }

        if (value[0] == '[')
        {
            var close = value.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            var rest = value[(close + 1)..];
            if (!rest.IsEmpty && (rest[0] != ':' || !ushort.TryParse(rest[1..], out _)))
            {
                return false;
            }

            value = value[1..close];
        }
        else if (value.Count(':') == 1)
        {
            var colon = value.IndexOf(':');
            if (!ushort.TryParse(value[(colon + 1)..], out _))
            {
                return false;
            }

            value = value[..colon];
        }

        if (!IPAddress.TryParse(value, out var parsed) || parsed is null)
        {
            return false;
        }

        address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        return true;
    }
}
