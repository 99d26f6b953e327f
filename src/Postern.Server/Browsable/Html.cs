using System.Text;
using System.Text.Encodings.Web;

namespace Postern.Server.Browsable;

/// <summary>
/// Builds HTML text where every piece of data goes through the encoder: usernames and group names are
/// user data, and a name like <c>&lt;script&gt;</c> must show as text, never run.
/// </summary>
public sealed class Html
{
    private readonly StringBuilder _text = new();

    /// <summary>Markup written by Postern itself (never data).</summary>
    public Html Raw(string markup)
    {
        _text.Append(markup);
        return this;
    }

    /// <summary>Data, encoded for element content and attribute values alike.</summary>
    public Html Text(string? data)
    {
        _text.Append(HtmlEncoder.Default.Encode(data ?? ""));
        return this;
    }

    public override string ToString() => _text.ToString();

    public static string Encode(string? data) => HtmlEncoder.Default.Encode(data ?? "");

    /// <summary>A same-site path to go back to after login or logout: a local absolute path, nothing that leaves the site.</summary>
    public static string SafeNext(string? next, string fallback) =>
        next is { Length: > 0 } && next[0] == '/'
            && !next.StartsWith("//", StringComparison.Ordinal) && !next.StartsWith("/\\", StringComparison.Ordinal)
            && !next.Any(char.IsControl)
            ? next
            : fallback;
}
