using System.CommandLine;
using Microsoft.Extensions.Options;
using Postern.Server.Accounts;
using Postern.Server.Hosting;
using Postern.Server.Storage;
using Postern.Server.Storage.Postgres;

namespace Postern.Server.Commands;

/// <summary>
/// <c>Postern.Server [serve] | createuser | changepassword | migrate | clearsessions | import-django | healthcheck</c>. Every command takes
/// <c>--db</c> (or <c>POSTERN_DB</c>); exit codes: 0 done, 1 refused input, 2 usage.
/// </summary>
public static class PosternCommandLine
{
    public const string DatabaseVariable = "POSTERN_DB";
    public const string RedisVariable = "POSTERN_REDIS";
    public const string SchemaVariable = "POSTERN_SCHEMA";

    public static async Task<int> RunAsync(string[] args)
    {
        var db = new Option<string?>("--db")
        {
            Description = $"SQLite file or postgres://user:password@host:port/name URL of the database (default: ${DatabaseVariable}, "
                + "else configuration, else ./postern.sqlite3)",
            Recursive = true,
        };
        var urls = new Option<string?>("--urls") { Description = "Addresses to listen on, e.g. http://0.0.0.0:8000" };
        // On every command: a write by changepassword must reach the caches of running instances as one by the API does.
        var redis = new Option<string?>("--redis")
        {
            Description = "HOST:PORT of Redis, which lets instances sharing a PostgreSQL database cache sessions "
                + $"(default: ${RedisVariable})",
            Recursive = true,
        };
        var schema = new Option<string?>(SchemaOption)
        {
            Description = "Whose tables hold the users and sessions: postern (its own, the default) or django (a Django project's "
                + $"database, shared with it as it runs; --db names it) (default: ${SchemaVariable})",
            Recursive = true,
        };
        schema.AcceptOnlyFromAmong("postern", "django");
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read the password from the first line of standard input instead of prompting",
        };

        var demoData = new Option<bool>("--demo-data")
        {
            Description = "Also create the walkthrough's users (alice and bob, passwords alice-password and bob-password) "
                + "and groups where missing. Never in production",
        };
        var serve = new Command("serve", "Run the backend (the default command)") { urls, demoData };
        serve.SetAction((parse, ct) =>
            ServeAsync(Settings(parse, parse.GetValue(db), parse.GetValue(urls), parse.GetValue(redis)), parse.GetValue(demoData), ct));

        var username = new Argument<string>("username") { Description = "The user's username" };
        var email = new Option<string>("--email") { Description = "Email address", DefaultValueFactory = _ => "" };
        var staff = new Option<bool>("--staff") { Description = "May change users and groups through the API" };
        var superuser = new Option<bool>("--superuser") { Description = "Has every permission (implies --staff)" };
        var forceCreate = new Option<bool>("--force")
        {
            Description = "Create the user even if the password fails the password validators (which otherwise refuse it "
                + "with --password-stdin, and ask at a terminal)",
        };
        var createUser = new Command("createuser", "Create a user") { username, email, staff, superuser, passwordStdin, forceCreate };
        createUser.SetAction((parse, ct) => AdminCommands.CreateUserAsync(
            Settings(parse, parse.GetValue(db), redis: parse.GetValue(redis)), parse.GetValue(username)!,
            parse.GetValue(email) ?? "", parse.GetValue(staff), parse.GetValue(superuser), parse.GetValue(passwordStdin),
            parse.GetValue(forceCreate), ct));

        var forceChange = new Option<bool>("--force")
        {
            Description = "Set the password even if it fails the password validators (which otherwise refuse it)",
        };
        var changePassword = new Command("changepassword", "Set a user's password; their sessions end")
        {
            username, passwordStdin, forceChange,
        };
        changePassword.SetAction((parse, ct) => AdminCommands.ChangePasswordAsync(
            Settings(parse, parse.GetValue(db), redis: parse.GetValue(redis)), parse.GetValue(username)!, parse.GetValue(passwordStdin),
            parse.GetValue(forceChange), ct));

        var migrate = new Command("migrate", "Create or migrate the database schema");
        migrate.SetAction((parse, ct) => AdminCommands.MigrateAsync(Settings(parse, parse.GetValue(db), redis: parse.GetValue(redis)), ct));

        var clearSessions = new Command("clearsessions",
            "Delete the expired sessions (as Django's clearsessions; a running server also does this hourly)");
        clearSessions.SetAction((parse, ct) =>
            AdminCommands.ClearSessionsAsync(Settings(parse, parse.GetValue(db), redis: parse.GetValue(redis)), ct));

        var healthUrl = new Option<string>("--url")
        {
            Description = "The liveness URL to ask",
            DefaultValueFactory = _ => HealthCheckCommand.DefaultUrl,
        };
        var healthCheck = new Command("healthcheck",
            "Exit 0 if the server answers 200 on /healthz, else 1 (for Docker's HEALTHCHECK: the runtime image has no curl)")
        {
            healthUrl,
        };
        healthCheck.SetAction((parse, ct) => HealthCheckCommand.RunAsync(parse.GetValue(healthUrl)!, Console.Error, ct));

        var from = new Option<string>("--from")
        {
            Description = "The Django project's database: its SQLite file or a postgres://user:password@host:port/name URL",
            Required = true,
        };
        var withSessions = new Option<bool>("--sessions")
        {
            Description = "Also copy the signed-in sessions, so that nobody has to log in again (needs the Django project's SECRET_KEY)",
        };
        var djangoKey = new Option<string?>("--django-secret-key")
        {
            Description = $"The Django project's SECRET_KEY, which signs its sessions (default: ${DjangoImportCommand.SecretKeyVariable}, "
                + $"else Postern:SecretKey; its SECRET_KEY_FALLBACKS: ${DjangoImportCommand.FallbacksVariable}, comma-separated)",
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be imported, and write nothing" };
        var importDjango = new Command("import-django",
            "Copy users, groups and memberships (and, with --sessions, signed-in sessions) from a Django project's database into "
            + "Postern's; run again, it updates and adds, never duplicates")
        {
            from, withSessions, djangoKey, dryRun,
        };
        importDjango.SetAction((parse, ct) => DjangoImportCommand.RunAsync(
            Settings(parse, parse.GetValue(db), redis: parse.GetValue(redis)), parse.GetValue(from)!, parse.GetValue(withSessions),
            parse.GetValue(djangoKey), parse.GetValue(dryRun), ct));

        var root = new RootCommand("Postern: a Django-compatible session + CSRF backend")
        {
            db, urls, redis, schema, demoData, serve, createUser, changePassword, migrate, clearSessions, importDjango, healthCheck,
        };
        root.SetAction((parse, ct) =>
            ServeAsync(Settings(parse, parse.GetValue(db), parse.GetValue(urls), parse.GetValue(redis)), parse.GetValue(demoData), ct));
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
            return await ReportUsageErrorAsync(parsed);
        return await parsed.InvokeAsync();
    }

    /// <summary>
    /// A mistyped command line: the errors and the usage go to stderr (stdout may be piped into something
    /// expecting the command's output), exit 2. System.CommandLine alone prints the usage to stdout and exits 1,
    /// which scripts cannot tell from a refused input.
    /// </summary>
    private static async Task<int> ReportUsageErrorAsync(ParseResult parsed)
    {
        await parsed.InvokeAsync(new InvocationConfiguration { Output = Console.Error, Error = Console.Error });
        return UsageExitCode;
    }

    public const int UsageExitCode = 2;

    private static HostSettings Settings(ParseResult parse, string? db, string? urls = null, string? redis = null) =>
        new(urls,
            db ?? NullIfEmpty(Environment.GetEnvironmentVariable(DatabaseVariable)),
            redis ?? NullIfEmpty(Environment.GetEnvironmentVariable(RedisVariable)))
        {
            Schema = parse.GetValue<string?>(SchemaOption) ?? NullIfEmpty(Environment.GetEnvironmentVariable(SchemaVariable)),
        };

    private const string SchemaOption = "--schema";

    /// <summary>Where the data goes: a SQLite file's full path, or a PostgreSQL URL without its password.</summary>
    private static string StorageDescription(string database) =>
        PostgresDatabaseUrl.IsPostgres(database)
            ? "PostgreSQL " + PostgresDatabaseUrl.Redact(database)
            : "SQLite " + Path.GetFullPath(database);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static async Task<int> ServeAsync(HostSettings settings, bool demoData, CancellationToken ct)
    {
        WebApplication app;
        try
        {
            app = await PosternApplication.BuildAsync(settings, ct);
        }
        catch (StoreUnavailableException e)
        {
            // An operator's mistake (a path that is a folder, a file that is no database): one line, not a stack trace.
            return AdminCommands.Fail(AdminCommands.CannotUseDatabase(e));
        }
        catch (OptionsValidationException e)
        {
            // A mistyped setting: one line naming it, not a stack trace.
            return AdminCommands.Fail(e.Message);
        }
        catch (Django.DjangoSchemaException e)
        {
            // Beside Django, a database or a setting Postern cannot work with.
            return AdminCommands.Fail(e.Message);
        }
        try
        {
            // What the host would check as it starts, checked first so that a mistyped setting is one line too, not the
            // host's "Hosting failed to start" and a stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            app.Services.GetRequiredService<Csrf.TrustedOrigins>();
        }
        catch (OptionsValidationException e)
        {
            await app.DisposeAsync();
            return AdminCommands.Fail(e.Message);
        }
        await using (app)
        {
            try
            {
                var storage = app.Services.GetRequiredService<IOptions<StorageOptions>>().Value;
                await Console.Out.WriteLineAsync($"Database: {StorageDescription(storage.Database)}"
                    + (storage.Schema == Storage.Schema.StorageSchema.Django ? ", beside Django (its users and sessions)" : ""));
                await FirstStart.CreateAdminIfNoUsersAsync(app.Services, Console.Out, AdminCommandHint.For(settings, storage.Database), ct);
                if (demoData)
                    await DemoData.CreateMissingAsync(app.Services, Console.Out, ct: ct);
            }
            catch (StoreUnavailableException e)
            {
                // On a first start with Redis not up yet the write is refused: say so in one line, and let the supervisor retry.
                return AdminCommands.Fail(AdminCommands.CannotUseDatabase(e));
            }
            await app.RunAsync();
        }
        return 0;
    }
}
