using System.Net;
using System.Text;
using System.Text.Json;
using Postern.Client;
using Postern.Protocol;

namespace Postern.Cli;

/// <summary>What each subcommand does, once the command line is parsed.</summary>
public static class Commands
{
    /// <summary>Redirects worth following for a GET (Django's APPEND_SLASH, a moved page), within reason.</summary>
    private const int MaxRedirects = 10;

    public static async Task<int> LoginAsync(CommandContext context, LoginCommand login, CancellationToken ct)
    {
        var (backend, loginPage) = LoginTarget(login.Url, login.Mode);
        var options = context.Options;
        options.LoginMode = login.Mode;
        options.LoginPageUrl = login.LoginUrl ?? loginPage;
        options.WhoAmIPath = login.WhoAmIUrl;
        var password = await ReadPasswordAsync(context.Terminal, login.PasswordFromStdin, login.Username, backend, ct);
        // The code is asked for only once the password was right, and only from a terminal (a script passes --otp).
        options.TwoFactorCode = (_, _) => ValueTask.FromResult(login.Otp ?? (context.Terminal.InputIsTerminal
            ? context.Terminal.ReadSecret($"Two-factor code for {login.Username} at {backend}: ")
            : null));
        if (context.Choice.File is null)
            context.Store.CreateSessionsFolder();
        await using var saved = await SavedSession.OpenForLoginAsync(context.Store, context.Choice, backend, options, ct);
        try
        {
            await saved.Session.LoginAsync(login.Username, password, ct);
        }
        catch (PosternException e)
        {
            saved.Discarded = !saved.Loaded;
            throw new CommandFailedException(e is TwoFactorRequiredException
                ? new Failure(ExitCodes.ClientError, $"{e.Request}: two-factor authentication required: pass the code with --otp CODE")
                : Failure.From(e, resumed: false));
        }
        await saved.SaveIfChangedAsync(ct);
        // Paths without --session go to the last host logged into; named sessions are used only when named.
        if (context.Choice is { Name: null, File: null })
            context.Store.MakeCurrent(saved.File!);
        await context.Terminal.Error.WriteLineAsync(
            $"postern: logged in to {backend} as {login.Username} ({ProfileName(saved.Session.Mode)}; session saved in {saved.File})");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The backend, and the login page when the URL names one: <c>http://host/accounts/login/</c> is that page on
    /// <c>http://host/</c>. A path is a page unless the seed's JSON login is asked for (then it is the backend's prefix).
    /// </summary>
    private static (Uri Backend, string? LoginPage) LoginTarget(string url, LoginMode mode)
    {
        var given = BackendAddress(url);
        if (given.AbsolutePath == "/" || mode == LoginMode.Seed)
            return (given, null);
        var page = SavedSession.AbsoluteUrl(url.Contains("://", StringComparison.Ordinal) ? url : "http://" + url)!;
        return (new Uri(given.GetLeftPart(UriPartial.Authority) + "/"), page.PathAndQuery);
    }

    private static string ProfileName(LoginMode mode) => mode switch
    {
        LoginMode.AllauthHeadless => "allauth's headless API",
        LoginMode.DjangoForm => "the login form",
        LoginMode.DrfApiAuth => "DRF's login form",
        _ => "the JSON login",
    };

    /// <summary>
    /// <c>login BASE_URL --token[=KEY]</c>: no password, no session on the server; the key (the option's value, else
    /// <c>POSTERN_TOKEN</c>, else the first line of stdin, else a prompt) is checked with <c>/auth/user</c> and saved as a
    /// login is.
    /// </summary>
    public static async Task<int> LoginWithTokenAsync(CommandContext context, string baseUrl, string? key, CancellationToken ct)
    {
        var backend = BackendAddress(baseUrl);
        key = await ReadTokenAsync(context.Terminal, key, backend, ct);
        if (context.Choice.File is null)
            context.Store.CreateSessionsFolder();
        var file = context.Store.Chosen(context.Choice) ?? context.Store.ForHost(backend);
        using var session = new PosternSession(backend, context.Options).WithToken(key);
        CurrentUser user;
        try
        {
            user = await session.WhoAmIAsync(ct);
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(e is InvalidTokenException
                ? new Failure(ExitCodes.ClientError, $"login failed: the API token was refused: {e.Detail ?? e.Message}")
                : Failure.From(e, resumed: false));
        }
        await session.SaveAsync(file, ct);
        if (context.Choice is { Name: null, File: null })
            context.Store.MakeCurrent(file);
        await context.Terminal.Error.WriteLineAsync(
            $"postern: logged in to {backend} as {user.Username} with an API token (saved in {file})");
        return ExitCodes.Success;
    }

    private static async Task<string> ReadTokenAsync(Terminal terminal, string? given, Uri backend, CancellationToken ct)
    {
        var key = given is { Length: > 0 } ? given
            : terminal.Environment(EnvironmentToken) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : !terminal.InputIsTerminal ? await terminal.In.ReadLineAsync(ct)
            : terminal.ReadSecret($"API token for {backend}: ");
        key = key?.Trim();
        if (string.IsNullOrEmpty(key))
            throw new UsageException("--token: no key given (pass --token KEY, set POSTERN_TOKEN, or pipe the key in)");
        if (key.Any(char.IsWhiteSpace))
            throw new UsageException("--token: an API token has no spaces");
        return key;
    }

    /// <summary>An API token to use instead of the saved session's cookies, for scripts (<c>POSTERN_TOKEN</c>).</summary>
    public const string EnvironmentToken = "POSTERN_TOKEN";

    /// <summary>
    /// Runs a sensitive action; when the backend wants the password confirmed first (a login older than its limit), asks
    /// for it on the terminal, confirms it, and runs the action once more.
    /// </summary>
    private static async Task<T> WithReauthenticationAsync<T>(
        Terminal terminal, PosternSession session, Func<Task<T>> action, CancellationToken ct, string? password = null)
    {
        try
        {
            return await action();
        }
        catch (ReauthenticationRequiredException e)
        {
            password ??= terminal.InputIsTerminal
                ? terminal.ReadSecret($"Confirm your password for {session.BaseAddress}: ")
                : throw new CommandFailedException(new Failure(ExitCodes.ClientError,
                    $"{e.Request}: reauthentication required: log in again (postern login), then retry within the site's limit"));
            await session.ReauthenticateAsync(password, ct);
            return await action();
        }
    }

    /// <summary><c>password change</c>: the current password and the new one (prompted twice, or two lines of stdin).</summary>
    public static async Task<int> ChangePasswordAsync(CommandContext context, string? baseUrl, bool fromStdin, CancellationToken ct)
    {
        var terminal = context.Terminal;
        string current, replacement;
        if (fromStdin)
        {
            current = await terminal.In.ReadLineAsync(ct) ?? throw new UsageException("--password-stdin: standard input was empty");
            replacement = await terminal.In.ReadLineAsync(ct)
                ?? throw new UsageException("--password-stdin: give the current password, then the new one, on two lines");
        }
        else
        {
            if (!terminal.InputIsTerminal)
                throw new UsageException("cannot prompt for passwords: standard input is not a terminal (use --password-stdin)");
            current = terminal.ReadSecret("Current password: ");
            replacement = terminal.ReadSecret("New password: ");
            if (terminal.ReadSecret("New password (again): ") != replacement)
                throw new UsageException("the two new passwords differ");
        }
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        try
        {
            await WithReauthenticationAsync(terminal, saved.Session,
                () => saved.Session.ChangePasswordAsync(current, replacement, ct), ct, password: current);
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
        await terminal.Error.WriteLineAsync($"postern: password changed at {saved.Session.BaseAddress}; other sessions have been ended");
        return ExitCodes.Success;
    }

    /// <summary><c>password reset EMAIL</c>: asks the backend to mail a reset link.</summary>
    public static async Task<int> RequestPasswordResetAsync(CommandContext context, string email, string? baseUrl, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        try
        {
            await saved.Session.RequestPasswordResetAsync(email, ct);
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
        await context.Terminal.Error.WriteLineAsync(
            $"postern: asked {saved.Session.BaseAddress} to send a reset link to {email} (if it has an account there)");
        return ExitCodes.Success;
    }

    /// <summary><c>token create NAME</c>: prints the new token, its key included (shown this once).</summary>
    public static async Task<int> CreateTokenAsync(CommandContext context, string name, string? baseUrl, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        try
        {
            var created = await WithReauthenticationAsync(context.Terminal, saved.Session, () => saved.Session.CreateTokenAsync(name, ct), ct);
            new JsonPrinter(context.Terminal.Out, context.Terminal.Colors).Write(JsonSerializer.SerializeToElement(created, PosternSession.Json));
            await context.Terminal.Error.WriteLineAsync(
                "postern: the key is shown this once; use it with postern login BASE_URL --token, or as POSTERN_TOKEN");
            return ExitCodes.Success;
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
    }

    /// <summary><c>token list</c>: every token the user may see, as one JSON array (no keys: the server has none).</summary>
    public static async Task<int> ListTokensAsync(CommandContext context, string? baseUrl, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        try
        {
            var tokens = new List<ApiTokenInfo>();
            await foreach (var token in saved.Session.ListTokensAsync(ct))
                tokens.Add(token);
            new JsonPrinter(context.Terminal.Out, context.Terminal.Colors).Write(JsonSerializer.SerializeToElement(tokens, PosternSession.Json));
            return ExitCodes.Success;
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
    }

    /// <summary><c>token revoke ID|URL</c>: the token stops working at once.</summary>
    public static async Task<int> RevokeTokenAsync(CommandContext context, string token, string? baseUrl, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl ?? (SavedSession.AbsoluteUrl(token) is { } url
            ? url.GetLeftPart(UriPartial.Authority) : null), ct);
        try
        {
            await saved.Session.RevokeTokenAsync(token, ct);
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
        await context.Terminal.Error.WriteLineAsync($"postern: revoked token {token}");
        return ExitCodes.Success;
    }

    private static async Task<string> ReadPasswordAsync(
        Terminal terminal, bool fromStdin, string username, Uri backend, CancellationToken ct)
    {
        if (fromStdin)
        {
            var line = await terminal.In.ReadLineAsync(ct);
            return line ?? throw new UsageException("--password-stdin: standard input was empty");
        }
        if (!terminal.InputIsTerminal)
            throw new UsageException(
                "cannot prompt for a password: standard input is not a terminal (pipe the password in with --password-stdin)");
        return terminal.ReadSecret($"Password for {username} at {backend}: ");
    }

    /// <summary>
    /// <c>127.0.0.1:8000</c> → <c>http://127.0.0.1:8000/</c>; always ends with a slash so that relative paths resolve
    /// under it.
    /// </summary>
    private static Uri BackendAddress(string baseUrl)
    {
        var text = baseUrl.Contains("://", StringComparison.Ordinal) ? baseUrl : "http://" + baseUrl;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw new UsageException($"'{baseUrl}' is not an http(s) URL");
        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path).Uri;
    }

    public static async Task<int> RequestAsync(CommandContext context, RequestCommand request, CancellationToken ct)
    {
        var items = RequestItems.Parse(request.Items);
        var body = await BodyAsync(context.Terminal, request, items, ct);
        if (request.All && request.Print.Head)
            throw new UsageException("--all prints the results of every page as one array; --print=h is not available with it");
        var url = items.WithQuery(request.Target);
        await using var saved = await SavedSession.OpenAsync(context.Store, context.Choice, request.Target, context.Options, ct);
        try
        {
            return request.All
                ? await PrintAllPagesAsync(context.Terminal, saved.Session, url, ct)
                : await SendAndPrintAsync(context.Terminal, saved.Session, request.Method, url, body, request.Print, ct);
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
    }

    public static async Task<int> WhoAmIAsync(CommandContext context, string? baseUrl, PrintParts print, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        try
        {
            // The seed's /auth/user is printed as it came (with --print h, its headers too); other profiles' users as JSON.
            if (saved.Session.Mode == LoginMode.Seed || saved.Session.ApiToken is not null)
                return await SendAndPrintAsync(
                    context.Terminal, saved.Session, HttpMethod.Get, context.Options.WhoAmIPath ?? EndpointPaths.User, body: null, print, ct);
            var user = await saved.Session.WhoAmIJsonAsync(ct);
            new JsonPrinter(context.Terminal.Out, context.Terminal.Colors).Write(user);
            return ExitCodes.Success;
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
    }

    public static async Task<int> LogoutAsync(CommandContext context, string? baseUrl, CancellationToken ct)
    {
        await using var saved = await OpenByBackendAsync(context, baseUrl, ct);
        if (saved.File is null)
            throw new UsageException($"not logged in to {baseUrl}");
        try
        {
            await saved.Session.LogoutAsync(ct);
        }
        catch (PosternException e) when (e is SessionExpiredException or NotAuthenticatedException)
        {
            // The server had already ended it: the file is just as useless.
        }
        catch (LogoutNotConfirmedException e)
        {
            throw new CommandFailedException(new Failure(ExitCodes.ClientError,
                $"{e.Message} The session may still work: its file is kept ({saved.File})."));
        }
        catch (PosternException e)
        {
            throw new CommandFailedException(Failure.From(e, saved.Loaded));
        }
        var byToken = saved.Session.ApiToken is not null;
        context.Store.Remove(saved.File);
        saved.Discarded = true;
        await context.Terminal.Error.WriteLineAsync($"postern: logged out of {saved.Session.BaseAddress} (removed {saved.File})"
            + (byToken ? "; the API token itself still works until revoked (postern token revoke ID)" : ""));
        return ExitCodes.Success;
    }

    /// <summary>whoami and logout take an optional BASE_URL instead of a request target.</summary>
    private static Task<SavedSession> OpenByBackendAsync(CommandContext context, string? baseUrl, CancellationToken ct) =>
        SavedSession.OpenAsync(
            context.Store, context.Choice, baseUrl is null ? null : BackendAddress(baseUrl).ToString(), context.Options, ct);

    private static async Task<HttpContent?> BodyAsync(Terminal terminal, RequestCommand request, RequestItems items, CancellationToken ct)
    {
        if (request.Json is not null && items.Body is not null)
            throw new UsageException("give the body either as --json or as field=value items, not both");
        if (items.Body is not null && (request.Method == HttpMethod.Get || request.Method == HttpMethod.Delete))
            throw new UsageException($"{request.Method.Method.ToLowerInvariant()} sends no body; use name==value for query parameters");
        string? json = items.Body?.ToJsonString();
        if (request.Json is { } given)
        {
            json = given switch
            {
                "@-" => await terminal.In.ReadToEndAsync(ct),
                ['@', .. var path] => await File.ReadAllTextAsync(path, ct),
                _ => given,
            };
            RequestItems.ParseJson(json, "--json: the body must be JSON");
        }
        return json is null ? null : new StringContent(json, new UTF8Encoding(false), "application/json");
    }

    private static async Task<int> SendAndPrintAsync(
        Terminal terminal, PosternSession session, HttpMethod method, string url, HttpContent? body, PrintParts print, CancellationToken ct)
    {
        var hadSession = session.HasSession;
        var response = await session.SendRawAsync(method, url, body, ct);
        for (var redirects = 0;
            method == HttpMethod.Get && IsRedirect(response) && response.Headers.Location is { } location && redirects < MaxRedirects;
            redirects++)
        {
            var next = new Uri(response.RequestMessage!.RequestUri!, location);
            response.Dispose();
            response = await session.SendRawAsync(HttpMethod.Get, next.ToString(), null, ct);
        }
        using (response)
        {
            var printer = new ResponsePrinter(terminal.Out, terminal.Colors);
            await response.Content.LoadIntoBufferAsync(ct);
            if (print.Head)
                printer.WriteHead(response);
            if ((int)response.StatusCode >= 400)
            {
                // The response is shown only when headers were asked for; the error itself is the line on stderr.
                if (print.Head && print.Body)
                    await printer.WriteBodyAsync(response, ct);
                throw await PosternException.FromResponseAsync(response, hadSession, ct);
            }
            if (print.Body)
                await printer.WriteBodyAsync(response, ct);
            if (IsRedirect(response))
                await terminal.Error.WriteLineAsync(
                    $"postern: {(int)response.StatusCode} {response.ReasonPhrase}: Location: {response.Headers.Location}"
                    + $" (not followed for {method.Method})");
            return ExitCodes.Success;
        }
    }

    private static bool IsRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is >= 300 and < 400 && response.StatusCode != HttpStatusCode.NotModified;

    private static async Task<int> PrintAllPagesAsync(Terminal terminal, PosternSession session, string url, CancellationToken ct)
    {
        var results = new List<JsonElement>();
        var progress = terminal.ErrorIsTerminal ? new PageProgressLine(terminal.Error) : null;
        try
        {
            await foreach (var item in session.PaginateAsync<JsonElement>(url, progress, ct))
                results.Add(item);
        }
        finally
        {
            progress?.Clear();
        }
        new JsonPrinter(terminal.Out, terminal.Colors).Write(JsonSerializer.SerializeToElement(results));
        return ExitCodes.Success;
    }

    /// <summary>"page 2, 20 of 27 results" rewritten in place on a terminal's stderr while --all walks the pages.</summary>
    private sealed class PageProgressLine(TextWriter error) : IProgress<PageProgress>
    {
        public void Report(PageProgress value) =>
            error.Write($"\r\u001b[Kpostern: page {value.Pages}, {value.Items}{(value.Count is { } count ? $" of {count}" : "")} results");

        public void Clear() => error.Write("\r\u001b[K");
    }
}
