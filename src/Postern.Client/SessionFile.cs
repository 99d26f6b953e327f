using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Postern.Client;

/// <summary>What a session file holds: the backend, its cookies or API token, and how the login was made.</summary>
internal sealed record SavedSessionState(
    Uri BaseAddress, CookieContainer Jar, string? ApiToken, LoginMode? Mode, string? LoginUrl, string? WhoAmIUrl);

/// <summary>
/// A saved session: the backend's address and the cookie jar (or an API token), and the login profile that made it, as
/// JSON in a file only its owner can read.
/// </summary>
internal static class SessionFile
{
    private sealed record SavedCookie(string Name, string Value, string Domain, string Path, DateTime? Expires, bool Secure, bool HttpOnly);

    /// <param name="ApiToken">The API token of a session authenticated by one; left out of the file otherwise.</param>
    /// <param name="Mode">The login profile (<see cref="LoginMode"/>'s name); absent in files written before profiles.</param>
    private sealed record Saved(Uri BaseAddress, List<SavedCookie> Cookies, string? ApiToken = null, string? Mode = null,
        string? LoginUrl = null, string? WhoAmIUrl = null);

    private static readonly JsonSerializerOptions Format = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static async Task SaveAsync(string path, SavedSessionState state, CancellationToken ct)
    {
        var cookies = state.Jar.GetAllCookies().Where(c => !c.Expired)
            .Select(c => new SavedCookie(c.Name, c.Value, c.Domain, c.Path,
                c.Expires == DateTime.MinValue ? null : c.Expires.ToUniversalTime(), c.Secure, c.HttpOnly))
            .ToList();
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        // Session cookies are credentials: the file is created readable by its owner alone.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(temporary, options))
            await JsonSerializer.SerializeAsync(stream, new Saved(state.BaseAddress, cookies, state.ApiToken,
                state.Mode?.ToString(), state.LoginUrl, state.WhoAmIUrl), Format, ct);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    public static async Task<SavedSessionState> LoadAsync(string path, CancellationToken ct)
    {
        Saved saved;
        try
        {
            await using var stream = File.OpenRead(path);
            saved = await JsonSerializer.DeserializeAsync<Saved>(stream, Format, ct) ?? throw new PosternException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new PosternException($"{path} is not a saved session: {e.Message}", e);
        }
        var jar = new CookieContainer();
        foreach (var c in saved.Cookies)
        {
            var cookie = new Cookie(c.Name, c.Value, c.Path, c.Domain) { Secure = c.Secure, HttpOnly = c.HttpOnly };
            if (c.Expires is { } expires)
                cookie.Expires = expires;
            jar.Add(cookie);
        }
        LoginMode? mode = Enum.TryParse<LoginMode>(saved.Mode, out var known) && known != LoginMode.Auto ? known : null;
        return new SavedSessionState(saved.BaseAddress, jar, saved.ApiToken, mode, saved.LoginUrl, saved.WhoAmIUrl);
    }
}
