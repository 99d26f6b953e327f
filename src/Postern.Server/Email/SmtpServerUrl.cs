using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using MailKit.Security;

namespace Postern.Server.Email;

/// <summary>
/// <c>Postern:Email:SmtpUrl</c>, read: <c>smtp://user:password@host:port</c> or <c>smtps://…</c>. <c>smtp</c> (port 25 unless
/// given) upgrades to TLS with STARTTLS when the server offers it, and insists on it when a password would otherwise cross
/// the network in clear (a host other than loopback): an attacker in the path could strip the offer. <c>smtps</c> (port
/// 465 unless given) speaks TLS from the first byte. User name and password are URL-decoded (<c>%40</c> for <c>@</c>).
/// </summary>
public sealed record SmtpServerUrl(string Host, int Port, SecureSocketOptions Security, string? User, string? Password)
{
    public const int SmtpPort = 25;
    public const int SmtpsPort = 465;

    /// <summary>The URL without its password, for messages and logs.</summary>
    public string Description { get; private init; } = "";

    /// <exception cref="FormatException">Not such a URL; the message says what is wrong, never the password.</exception>
    public static SmtpServerUrl Parse(string url) =>
        TryParse(url, out var parsed, out var problem) ? parsed : throw new FormatException(problem);

    public static bool TryParse(string url, [NotNullWhen(true)] out SmtpServerUrl? parsed, [NotNullWhen(false)] out string? problem)
    {
        parsed = null;
        problem = null;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("smtp" or "smtps")
            || string.IsNullOrEmpty(uri.Host))
        {
            problem = "an SMTP URL looks like smtp://user:password@host:587 or smtps://user:password@host:465.";
            return false;
        }
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            problem = "an SMTP URL has no path, query or fragment: smtp://user:password@host:port.";
            return false;
        }
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            // Split before decoding: an encoded ':' (%3A) belongs to the user name or the password.
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? "" : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var implicitTls = uri.Scheme == "smtps";
        var port = uri.Port > 0 ? uri.Port : implicitTls ? SmtpsPort : SmtpPort;
        var host = uri.DnsSafeHost;
        var security = implicitTls ? SecureSocketOptions.SslOnConnect
            : user is not null && !IsLoopback(host) ? SecureSocketOptions.StartTls
            : SecureSocketOptions.StartTlsWhenAvailable;
        var credentials = user is null ? "" : Uri.EscapeDataString(user) + (password is null ? "" : ":***") + "@";
        var shownHost = uri.HostNameType == UriHostNameType.IPv6 ? $"[{host}]" : host;
        parsed = new SmtpServerUrl(host, port, security, user, password)
        {
            Description = $"{uri.Scheme}://{credentials}{shownHost}:{port.ToString(CultureInfo.InvariantCulture)}",
        };
        return true;
    }

    private static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));

    /// <summary>The description: a record's generated ToString would print the password.</summary>
    public override string ToString() => Description;
}
