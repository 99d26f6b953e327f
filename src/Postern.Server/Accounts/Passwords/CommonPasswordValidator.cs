using System.IO.Compression;

namespace Postern.Server.Accounts;

/// <summary>
/// Django's <c>CommonPasswordValidator</c>: the password, lowercased and stripped of surrounding white space, is not in
/// a list of common passwords. By default Django's own list (common-passwords.txt.gz beside this file: see README.md
/// there), read once, at the first password checked; or a file of one password a line, gzipped or not
/// (Django's <c>password_list_path</c>), whose entries must be lowercase to ever match, as in Django.
/// </summary>
public sealed class CommonPasswordValidator : IPasswordValidator
{
    private const string DjangoListResource = "Postern.Accounts.common-passwords.txt.gz";

    private static readonly Lazy<HashSet<string>> DjangoList = new(() =>
    {
        using var stream = typeof(CommonPasswordValidator).Assembly.GetManifestResourceStream(DjangoListResource)
            ?? throw new InvalidOperationException($"The resource {DjangoListResource} is missing from the build.");
        return Read(stream);
    });

    private readonly Lazy<HashSet<string>> _passwords;

    /// <param name="passwordListPath">A list of one's own instead of Django's; null for Django's.</param>
    public CommonPasswordValidator(string? passwordListPath = null)
    {
        PasswordListPath = passwordListPath;
        _passwords = passwordListPath is null ? DjangoList : new(() =>
        {
            using var file = File.OpenRead(passwordListPath);
            return Read(file);
        });
    }

    public string? PasswordListPath { get; }

    public string? Validate(string password, PasswordUserAttributes? user) =>
        _passwords.Value.Contains(PythonText.Strip(PythonText.Lower(password))) ? "This password is too common." : null;

    public string HelpText => "Your password can’t be a commonly used password.";

    /// <summary>The stripped lines of a UTF-8 text, gunzipped first when it is gzip (as Django tries gzip, then plain text).</summary>
    private static HashSet<string> Read(Stream stream)
    {
        Span<byte> magic = stackalloc byte[2];
        var isGzip = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        stream.Position = 0;
        // UTF-8 as Django reads it: a byte order mark stays part of the first line.
        using var text = new StreamReader(isGzip ? new GZipStream(stream, CompressionMode.Decompress) : stream,
            new System.Text.UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        var passwords = new HashSet<string>(StringComparer.Ordinal);
        while (text.ReadLine() is { } line)
            passwords.Add(PythonText.Strip(line));
        return passwords;
    }
}
