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
        next is { Length: > 0 } && next[0] == '/' && !next.StartsWith("//", StringComparison.Ordinal) && !next.StartsWith("/\\", StringComparison.Ordinal)
            && !next.Any(char.IsControl)
            ? next
            : fallback;

    public const string Style = """
        <style>
          body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #f7f7f9; }
          header { background: #2c3e50; color: #fff; padding: .6em 1.2em; display: flex; justify-content: space-between; align-items: center; }
          header a, header button { color: #fff; background: none; border: none; font: inherit; cursor: pointer; text-decoration: underline; }
          header .brand { font-weight: bold; text-decoration: none; }
          main { padding: 1em 1.6em; max-width: 70em; }
          .breadcrumb { list-style: none; padding: 0; display: flex; gap: .4em; }
          .breadcrumb li + li::before { content: "/"; padding-right: .4em; color: #888; }
          pre.response { background: #fff; border: 1px solid #ddd; padding: 1em; overflow-x: auto; }
          .meta { color: #555; }
          form.write { background: #fff; border: 1px solid #ddd; padding: 1em; margin-top: 1em; }
          textarea { width: 100%; min-height: 8em; font-family: monospace; }
          .error { color: #b00; }
          label { display: block; margin-top: .6em; }
        </style>
        """;
}
