using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using Postern.Client;

namespace Postern.Cli;

/// <summary>
/// <c>postern login | get | post | put | patch | delete | whoami | logout | token | password</c>. Exit codes: 0 success,
/// 1 usage, 2 HTTP 4xx, 3 HTTP 5xx, 4 no answer (<see cref="ExitCodes"/>); every failure is one line on stderr.
/// </summary>
public static class PosternCommandLine
{
    /// <summary><c>--mode</c>'s words.</summary>
    private static readonly Dictionary<string, LoginMode> LoginModes = new(StringComparer.Ordinal)
    {
        ["auto"] = LoginMode.Auto,
        ["seed"] = LoginMode.Seed,
        ["allauth"] = LoginMode.AllauthHeadless,
        ["form"] = LoginMode.DjangoForm,
        ["drf"] = LoginMode.DrfApiAuth,
    };

    public static async Task<int> RunAsync(string[] args, Terminal terminal)
    {
        var sessionName = new Option<string?>("--session")
        {
            Description = "Use the named session (saved as NAME.json) instead of the host's",
            HelpName = "NAME",
            Recursive = true,
        };
        var sessionFile = new Option<string?>("--session-file")
        {
            Description = "Use the session saved in this file",
            HelpName = "PATH",
            Recursive = true,
        };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Give up on a request after this many seconds",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 30,
            Recursive = true,
        };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not > 0)
                result.AddError("--timeout must be a positive number of seconds");
        });

        var root = new RootCommand("postern: JSON requests to Django-style session + CSRF backends (Django, DRF, Postern)")
        {
            sessionName, sessionFile, timeout,
        };
        var context = (ParseResult parse) => new CommandContext(
            terminal,
            SessionStore.FromEnvironment(terminal.Environment),
            new SessionChoice(parse.GetValue(sessionName), parse.GetValue(sessionFile)),
            new PosternClientOptions
            {
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                // A script's token, instead of the saved session's cookies; never for a password login (a token cannot log in).
                ApiToken = parse.CommandResult.Command.Name == "login" ? null
                    : terminal.Environment(Commands.EnvironmentToken) is { Length: > 0 } key ? key.Trim() : null,
            });

        // login
        var baseUrl = new Argument<string>("BASE_URL") { Description = "The backend, e.g. http://127.0.0.1:8000" };
        var username = new Argument<string?>("USERNAME") { Description = "Who to log in as (not with --token)", Arity = ArgumentArity.ZeroOrOne };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the password from the first line of standard input",
        };
        var token = new Option<string?>("--token")
        {
            Description = "Log in with an API token instead: KEY, or without it POSTERN_TOKEN, else standard input, else a prompt",
            HelpName = "KEY",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var mode = new Option<string>("--mode")
        {
            Description = "How the site logs in: auto (find out), seed (/auth/login), allauth (allauth's headless API), "
                + "form (a login form: Django, allauth), drf (/api-auth/login/)",
            HelpName = "auto|seed|allauth|form|drf",
            DefaultValueFactory = _ => "auto",
        };
        mode.AcceptOnlyFromAmong(LoginModes.Keys.ToArray());
        var loginUrl = new Option<string?>("--login-url")
        {
            Description = "The login page (or allauth's API base) when the site's is not where it is usually (also: give it as the URL)",
            HelpName = "PATH",
        };
        var whoAmIUrl = new Option<string?>("--whoami-url")
        {
            Description = "What says who is signed in, for sites without their own (e.g. /api/me/); saved with the session",
            HelpName = "PATH",
        };
        var otp = new Option<string?>("--otp")
        {
            Description = "The two-factor code (TOTP or recovery code), if the site asks for one; else it is prompted for",
            HelpName = "CODE",
        };
        var login = new Command("login",
            "Log in (USERNAME and a password, or --token) and save the session (per host, or --session NAME / --session-file PATH); "
            + "BASE_URL may be the login page itself (http://host/accounts/login/)")
        {
            baseUrl, username, passwordStdin, token, mode, loginUrl, whoAmIUrl, otp,
        };
        login.SetAction((parse, ct) => Guarded(terminal, c =>
        {
            var name = parse.GetValue(username);
            if (parse.GetResult(token) is not null)
            {
                return name is not null || parse.GetValue(passwordStdin)
                    ? throw new UsageException("--token logs in without a username or password")
                    : Commands.LoginWithTokenAsync(context(parse), parse.GetValue(baseUrl)!, parse.GetValue(token), c);
            }
            return name is null
                ? throw new UsageException("login needs a USERNAME (or --token)")
                : Commands.LoginAsync(context(parse), new LoginCommand(parse.GetValue(baseUrl)!, name, parse.GetValue(passwordStdin),
                    LoginModes[parse.GetValue(mode)!], parse.GetValue(loginUrl), parse.GetValue(whoAmIUrl), parse.GetValue(otp)), c);
        }, ct));
        root.Subcommands.Add(login);

        // get, post, put, patch, delete
        var print = PrintOption();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            var target = new Argument<string>("URL|PATH")
            {
                Description = "An absolute URL (its host's session is used) or a path on the session's backend",
            };
            var hasBody = method != HttpMethod.Get && method != HttpMethod.Delete;
            var items = new Argument<string[]>("ITEMS")
            {
                Description = hasBody
                    ? "field=value (a string), field:=json (a raw JSON value), name==value (a query parameter)"
                    : "name==value (a query parameter)",
                Arity = ArgumentArity.ZeroOrMore,
            };
            var command = new Command(method.Method.ToLowerInvariant(), $"Send a {method.Method} request and print the response")
            {
                target, items, print,
            };
            Option<string?>? json = null;
            Option<bool>? all = null;
            if (hasBody)
            {
                json = new Option<string?>("--json")
                {
                    Description = "The request body: JSON text, @FILE, or @- for standard input",
                    HelpName = "BODY|@FILE",
                };
                command.Options.Add(json);
            }
            if (method == HttpMethod.Get)
            {
                all = new Option<bool>("--all") { Description = "Follow 'next' to the last page and print one JSON array of every result" };
                command.Options.Add(all);
            }
            command.SetAction((parse, ct) => Guarded(terminal, c => Commands.RequestAsync(context(parse), new RequestCommand(
                method,
                parse.GetValue(target)!,
                parse.GetValue(items) ?? [],
                json is null ? null : parse.GetValue(json),
                all is not null && parse.GetValue(all),
                PrintParts.Parse(parse.GetValue(print))), c), ct));
            root.Subcommands.Add(command);
        }

        // whoami, logout
        var optionalBase = new Argument<string?>("BASE_URL")
        {
            Description = "Whose session (default: the last login's)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var whoAmI = new Command("whoami", "Show who the session is logged in as") { optionalBase, print };
        whoAmI.SetAction((parse, ct) => Guarded(terminal, c => Commands.WhoAmIAsync(
            context(parse), parse.GetValue(optionalBase), PrintParts.Parse(parse.GetValue(print)), c), ct));
        root.Subcommands.Add(whoAmI);
        var logout = new Command("logout", "End the session on the server and remove its file") { optionalBase };
        logout.SetAction((parse, ct) => Guarded(terminal, c => Commands.LogoutAsync(context(parse), parse.GetValue(optionalBase), c), ct));
        root.Subcommands.Add(logout);

        // token create | list | revoke
        var tokenCommand = new Command("token", "Create, list and revoke API tokens (for scripts: postern login BASE_URL --token)");
        var tokenName = new Argument<string>("NAME") { Description = "What the token is for" };
        var create = new Command("create", "Create an API token and print it, its key included (shown this once)") { tokenName, optionalBase };
        create.SetAction((parse, ct) => Guarded(terminal, c => Commands.CreateTokenAsync(
            context(parse), parse.GetValue(tokenName)!, parse.GetValue(optionalBase), c), ct));
        var list = new Command("list", "List your API tokens (staff: everyone's) as one JSON array") { optionalBase };
        list.SetAction((parse, ct) => Guarded(terminal, c => Commands.ListTokensAsync(context(parse), parse.GetValue(optionalBase), c), ct));
        var tokenId = new Argument<string>("ID|URL") { Description = "The token's id or url, as token list shows it" };
        var revoke = new Command("revoke", "Revoke an API token at once") { tokenId, optionalBase };
        revoke.SetAction((parse, ct) => Guarded(terminal, c => Commands.RevokeTokenAsync(
            context(parse), parse.GetValue(tokenId)!, parse.GetValue(optionalBase), c), ct));
        tokenCommand.Subcommands.Add(create);
        tokenCommand.Subcommands.Add(list);
        tokenCommand.Subcommands.Add(revoke);
        root.Subcommands.Add(tokenCommand);

        // password change | reset
        var passwordCommand = new Command("password", "Change your password, or ask for a reset e-mail");
        var changeStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the current password, then the new one, from the first two lines of standard input",
        };
        var change = new Command("change", "Change the signed-in user's password (asks for the current one and the new one)")
        {
            optionalBase, changeStdin,
        };
        change.SetAction((parse, ct) => Guarded(terminal, c => Commands.ChangePasswordAsync(
            context(parse), parse.GetValue(optionalBase), parse.GetValue(changeStdin), c), ct));
        var email = new Argument<string>("EMAIL") { Description = "The account's e-mail address" };
        var reset = new Command("reset", "Ask for a password reset e-mail (the same answer whether or not the address has an account)")
        {
            email, optionalBase,
        };
        reset.SetAction((parse, ct) => Guarded(terminal, c => Commands.RequestPasswordResetAsync(
            context(parse), parse.GetValue(email)!, parse.GetValue(optionalBase), c), ct));
        passwordCommand.Subcommands.Add(change);
        passwordCommand.Subcommands.Add(reset);
        root.Subcommands.Add(passwordCommand);

        ShowOptionalArgumentsInTheCommandList(root);

        // "@file" is ours (--json @body.json), not a response file of arguments.
        var result = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0)
        {
            var command = result.CommandResult.Command;
            var help = command == root ? "postern --help" : $"postern {command.Name} --help";
            // "Unrecognized command" says more than the "Required command was not provided." it causes.
            var errors = string.Join(" ", result.Errors.Select(e => e.Message).Distinct()
                .OrderBy(m => m.StartsWith("Required command", StringComparison.Ordinal)));
            await terminal.Error.WriteLineAsync($"postern: {errors} (see {help})");
            return ExitCodes.Usage;
        }
        return await result.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error });
    }

    /// <summary>
    /// The root's list of commands shows each command's arguments as its own usage line does: <c>whoami [&lt;BASE_URL&gt;]</c>,
    /// <c>get &lt;URL|PATH&gt; [&lt;ITEMS&gt;...]</c>. System.CommandLine's list shows every argument as required, and its
    /// HelpBuilder is internal: the root's help is rendered as usual, and its Commands section rewritten.
    /// </summary>
    private static void ShowOptionalArgumentsInTheCommandList(RootCommand root)
    {
        var help = root.Options.OfType<System.CommandLine.Help.HelpOption>().Single();
        help.Action = new RootHelpAction(root, help.Action!);
    }

    private sealed class RootHelpAction(RootCommand root, CommandLineAction standard) : SynchronousCommandLineAction
    {
        /// <summary>As the standard help: <c>get --help</c> is help, not a missing URL.</summary>
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            if (parseResult.CommandResult.Command != root)
                return ((SynchronousCommandLineAction)standard).Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            var captured = new StringWriter();
            parseResult.InvocationConfiguration.Output = captured;
            int exit;
            try
            {
                exit = ((SynchronousCommandLineAction)standard).Invoke(parseResult);
            }
            finally
            {
                parseResult.InvocationConfiguration.Output = output;
            }
            var text = captured.ToString();
            var commands = text.IndexOf("Commands:", StringComparison.Ordinal);
            if (commands >= 0)
            {
                var rows = root.Subcommands.Where(c => !c.Hidden).Select(c => (Usage: Usage(c), Description: c.Description ?? "")).ToList();
                var width = rows.Max(r => r.Usage.Length) + 2;
                text = text[..commands] + "Commands:" + Environment.NewLine
                    + string.Concat(rows.Select(r => "  " + r.Usage.PadRight(width) + r.Description + Environment.NewLine))
                    + Environment.NewLine;
            }
            output.Write(text);
            return exit;
        }

        private static string Usage(Command command) => string.Join(' ', command.Arguments.Select(argument =>
            (argument.Arity.MinimumNumberOfValues, argument.Arity.MaximumNumberOfValues) switch
            {
                (0, 1) => $"[<{argument.Name}>]",
                (0, _) => $"[<{argument.Name}>...]",
                (_, > 1) => $"<{argument.Name}>...",
                _ => $"<{argument.Name}>",
            }).Prepend(command.Name));
    }

    private static Option<string?> PrintOption()
    {
        var print = new Option<string?>("--print", "-p")
        {
            Description = "What to print: h = status line and headers, b = body (default: b), e.g. --print=hb",
            HelpName = PrintParts.Letters,
        };
        print.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } letters
                && (letters.Length == 0 || letters.Any(c => !PrintParts.Letters.Contains(c))))
                result.AddError($"--print takes the letters h (status line and headers) and b (body), e.g. --print=hb; not '{letters}'");
        });
        return print;
    }

    /// <summary>Runs a command, turning every expected failure into one line on stderr and its exit code.</summary>
    private static async Task<int> Guarded(Terminal terminal, Func<CancellationToken, Task<int>> command, CancellationToken ct)
    {
        Failure failure;
        try
        {
            return await command(ct);
        }
        catch (UsageException e)
        {
            failure = new Failure(ExitCodes.Usage, e.Message);
        }
        catch (CommandFailedException e)
        {
            failure = e.Failure;
        }
        catch (PosternException e)
        {
            failure = Failure.From(e, resumed: false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            failure = new Failure(ExitCodes.Interrupted, "interrupted");
        }
        catch (IOException e)
        {
            failure = new Failure(ExitCodes.Usage, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            failure = new Failure(ExitCodes.Usage, e.Message);
        }
        await terminal.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"postern: {failure.Message}"));
        return failure.ExitCode;
    }
}

/// <summary>A failure already described (with what the command knew, e.g. that its session was resumed).</summary>
public sealed class CommandFailedException(Failure failure) : Exception(failure.Message)
{
    public Failure Failure { get; } = failure;
}

/// <summary>What every command needs: the streams, where sessions live, which one was asked for, and the client's options.</summary>
public sealed record CommandContext(Terminal Terminal, SessionStore Store, SessionChoice Choice, PosternClientOptions Options);

/// <summary><c>login</c> as the command line gave it.</summary>
public sealed record LoginCommand(
    string Url, string Username, bool PasswordFromStdin, LoginMode Mode, string? LoginUrl, string? WhoAmIUrl, string? Otp);

/// <summary>One request as the command line gave it.</summary>
public sealed record RequestCommand(
    HttpMethod Method, string Target, IReadOnlyList<string> Items, string? Json, bool All, PrintParts Print);
