using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Accounts;
using Postern.Server.Audit;
using Postern.Server.Hosting;
using Postern.Server.Storage;

namespace Postern.Server.Commands;

/// <summary>The administration commands; each opens the database, does one thing and exits.</summary>
public static class AdminCommands
{
    public static Task<int> MigrateAsync(HostSettings settings, CancellationToken ct) =>
        WithPreparedStoreAsync(settings, _ =>
        {
            Console.WriteLine("The database schema is up to date.");
            return Task.FromResult(0);
        }, ct);

    public static Task<int> CreateUserAsync(HostSettings settings, string username, string email, bool staff, bool superuser,
        bool passwordFromStdin, bool force, CancellationToken ct) =>
        WithAccountsAsync(settings, async (accounts, users, validation, audit) =>
        {
            if (AccountService.ValidateUsername(username) is { } problem)
                return Fail(problem);
            if (await users.FindUserByUsernameAsync(username, ct) is not null)
                return Fail($"A user with the username '{username}' already exists.");
            // As Django's create_user.
            email = Api.EmailAddress.Normalize(email);
            var choice = new NewPasswordChoice(validation, new PasswordUserAttributes(username, email), passwordFromStdin, force);
            if (choice.ForNewUser() is not { } password)
                return 1;
            var created = await accounts.CreateUserAsync(username, password, email, staff || superuser, superuser,
                bypassPasswordValidation: true, ct: ct);
            await audit.RecordCommandAsync("createuser", AuditEventKinds.UserCreated, created, "Created by the command line.", ct);
            Console.WriteLine($"Created user '{username}'.");
            return 0;
        }, ct);

    public static Task<int> ChangePasswordAsync(HostSettings settings, string username, bool passwordFromStdin, bool force,
        CancellationToken ct) =>
        WithAccountsAsync(settings, async (accounts, users, validation, audit) =>
        {
            var user = await users.FindUserByUsernameAsync(username, ct);
            if (user is null)
                return Fail($"There is no user '{username}'.");
            var choice = new NewPasswordChoice(validation, PasswordUserAttributes.Of(user), passwordFromStdin, force);
            if (choice.ForExistingUser(username) is not { } password)
                return 1;
            await accounts.ChangePasswordAsync(user, password, bypassPasswordValidation: true, ct: ct);
            await audit.RecordCommandAsync("changepassword", AuditEventKinds.PasswordChanged, user, "Set by the command line.", ct);
            Console.WriteLine($"Changed the password of '{username}'; their sessions have ended.");
            return 0;
        }, ct);

    /// <summary>
    /// Django's clearsessions: deletes the sessions past their expiry. The server sweeps them hourly by itself; this is for
    /// a database a server does not run against, or a cron job that wants it now.
    /// </summary>
    public static Task<int> ClearSessionsAsync(HostSettings settings, CancellationToken ct) =>
        WithPreparedStoreAsync(settings, async services =>
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var deleted = await services.GetRequiredService<ISessionStore>().DeleteExpiredSessionsAsync(now, ct);
            Console.WriteLine(deleted == 1 ? "Deleted 1 expired session." : $"Deleted {deleted} expired sessions.");
            return 0;
        }, ct);

    private static Task<int> WithAccountsAsync(
        HostSettings settings, Func<AccountService, IUserStore, PasswordValidation, AuditTrail, Task<int>> work, CancellationToken ct) =>
        WithPreparedStoreAsync(settings, services => work(services.GetRequiredService<AccountService>(),
            services.GetRequiredService<IUserStore>(), services.GetRequiredService<PasswordValidation>(),
            services.GetRequiredService<AuditTrail>()), ct);

    /// <summary>
    /// Runs <paramref name="work"/> on a migrated store; refused input, refused settings and an unusable database are one
    /// <c>error:</c> line and exit 1, not a stack trace.
    /// </summary>
    internal static async Task<int> WithPreparedStoreAsync(
        HostSettings settings, Func<IServiceProvider, Task<int>> work, CancellationToken ct)
    {
        await using var app = PosternApplication.CreateBuilder(settings).Build();
        try
        {
            await PosternApplication.PrepareAsync(app.Services, ct);
            return await work(app.Services);
        }
        catch (Exception e) when (e is InvalidAccountInputException or DuplicateUsernameException or PasswordInputException)
        {
            return Fail(e.Message);
        }
        catch (StoreUnavailableException e)
        {
            return Fail(CannotUseDatabase(e));
        }
        catch (OptionsValidationException e)
        {
            return Fail(e.Message);
        }
        catch (Django.DjangoSchemaException e)
        {
            return Fail(e.Message);
        }
    }

    public static string CannotUseDatabase(StoreUnavailableException e) =>
        $"Cannot use the database: {e.InnerException?.Message ?? e.Message}";

    public static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return 1;
    }
}

public sealed class PasswordInputException(string message) : Exception(message);

/// <summary>
/// A new password for a command, validated as Django's commands validate it: each message on its own line on stderr;
/// at a terminal, <c>createuser</c> asks whether to use the password anyway and otherwise asks for another, and
/// <c>changepassword</c> asks for another up to three times. Read from stdin, a refused password is exit 1, as a script
/// cannot answer; <c>--force</c> skips the validators.
/// </summary>
public sealed class NewPasswordChoice(PasswordValidation validation, PasswordUserAttributes user, bool fromStdin, bool force)
{
    /// <summary>Django's changepassword gives up after three refused passwords.</summary>
    public const int ChangePasswordAttempts = 3;

    public const string BypassQuestion = "Bypass password validation and create user anyway? [y/N]: ";

    /// <summary>The password to create the user with, or null when it was refused (the reasons are printed).</summary>
    public string? ForNewUser()
    {
        while (true)
        {
            var password = PasswordInput.Read(fromStdin);
            if (Passes(password))
                return password;
            if (fromStdin)
                return Refuse("create the user");
            Console.Error.Write(BypassQuestion);
            if (string.Equals(Console.ReadLine(), "y", StringComparison.OrdinalIgnoreCase))
                return password;
        }
    }

    /// <summary>The user's new password, or null when it was refused (the reasons are printed).</summary>
    public string? ForExistingUser(string username)
    {
        for (var attempt = 1; ; attempt++)
        {
            var password = PasswordInput.Read(fromStdin);
            if (Passes(password))
                return password;
            if (fromStdin)
                return Refuse("set it");
            if (attempt == ChangePasswordAttempts)
            {
                AdminCommands.Fail($"Aborting password change for user '{username}' after {attempt} attempts.");
                return null;
            }
        }
    }

    /// <summary>True when the validators pass the password or are skipped; otherwise prints their messages.</summary>
    private bool Passes(string password)
    {
        if (force)
            return true;
        var messages = validation.Validate(password, user);
        foreach (var message in messages)
            Console.Error.WriteLine(message);
        return messages.Count == 0;
    }

    private static string? Refuse(string purpose)
    {
        AdminCommands.Fail($"Password validation failed; pass --force to {purpose} anyway.");
        return null;
    }
}

/// <summary>Reads a new password: the first line of stdin, or twice at a terminal prompt without echo.</summary>
public static class PasswordInput
{
    public static string Read(bool fromStdin)
    {
        string password;
        if (fromStdin)
        {
            password = Console.In.ReadLine() ?? throw new PasswordInputException("No password on standard input.");
        }
        else
        {
            if (Console.IsInputRedirected)
                throw new PasswordInputException("Standard input is not a terminal: pass --password-stdin to read the password from it.");
            password = Prompt("Password: ");
            if (Prompt("Password (again): ") != password)
                throw new PasswordInputException("The two passwords did not match.");
        }
        if (AccountService.ValidatePassword(password) is { } problem)
            throw new PasswordInputException(problem);
        return password;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                    text.Length--;
                continue;
            }
            if (!char.IsControl(key.KeyChar))
                text.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
