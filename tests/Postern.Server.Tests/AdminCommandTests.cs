using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Server.Tests.Support;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The administration commands as an operator runs them: the built executable in its own process,
/// a real database from <see cref="TestStore"/> (a SQLite file, or a PostgreSQL database), and where it
/// matters a real server on the same database to prove the effect.
/// One class per command so that xunit runs them side by side: each process start costs most of a second.
/// </summary>
public static class AdminCommandTests
{
    /// <summary><c>migrate</c>: the schema, idempotence, unusable paths.</summary>
    public sealed class Migrate : AdminCommandTest
    {
        [Fact]
        public async Task MigrateCreatesTheSchemaAndIsIdempotent()
        {
            var first = await RunAsync(null, "migrate", "--db", Db);
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.Contains("up to date", first.Stdout, StringComparison.Ordinal);
            var tables = await TestStore.TablesAsync(Db);
            Assert.Contains("users", tables);
            Assert.Contains("sessions", tables);
            var version = await SchemaVersionAsync();

            var second = await RunAsync(null, "migrate", "--db", Db);
            Assert.True(second.ExitCode == 0, second.ToString());
            Assert.Equal(tables, await TestStore.TablesAsync(Db));
            Assert.Equal(version, await SchemaVersionAsync());
            Assert.Equal(0, await CountUsersAsync());
        }

        [Fact]
        [Trait("Store", "sqlite-only")]
        public async Task MigrateCreatesAMissingDatabaseFolder()
        {
            var nested = Path.Combine(Folder, "var", "lib", "postern", "db.sqlite3");
            var result = await RunAsync(null, "migrate", "--db", nested);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.True(File.Exists(nested));
        }

        [Fact]
        [Trait("Store", "sqlite-only")]
        public async Task MigrateUnderAFileIsExit1WithAnErrorLine()
        {
            var notAFolder = Path.Combine(Folder, "a-file");
            await File.WriteAllTextAsync(notAFolder, "not a folder");
            var result = await RunAsync(null, "migrate", "--db", Path.Combine(notAFolder, "db.sqlite3"));
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }

        [Fact]
        public async Task CreateuserOnAnUnusableDatabaseIsExit1WithAnErrorLine()
        {
            var unusable = await TestStore.UnusableDatabaseAsync(Folder);
            var result = await RunAsync("alice-password\n", "createuser", "alice", "--db", unusable, "--password-stdin");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary><c>createuser</c>: the user it makes, and the input it refuses.</summary>
    public sealed class CreateUser : AdminCommandTest
    {
        [Fact]
        public async Task CreateuserMakesAUserWhoCanLogInThroughARealServer()
        {
            var result = await CreateUserAsync("alice", "alice-password", "--email", "A@X.org", "--staff");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("Created user 'alice'", result.Stdout, StringComparison.Ordinal);
            Assert.Equal("", result.Stderr);

            var stored = await StoredUserAsync("alice");
            Assert.NotNull(stored);
            Assert.Equal("A@x.org", stored.Email); // Django's create_user normalizes the domain's case.
            Assert.True(stored.IsStaff);
            Assert.False(stored.IsSuperuser);
            Assert.StartsWith("pbkdf2_sha256$", stored.Password, StringComparison.Ordinal);

            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            var (login, session) = await LogInAsync(server.BaseAddress, "alice", "alice-password");
            Assert.Equal(HttpStatusCode.OK, login.Status);
            var user = await GetUserAsync(server.BaseAddress, session);
            Assert.Equal(HttpStatusCode.OK, user.Status);
            Assert.True(user.Json().GetProperty("is_staff").GetBoolean());
            Assert.Equal("A@x.org", user.Json().GetProperty("email").GetString());

            // The audit trail has the command's creation, then the login.
            var events = await server.Services.GetRequiredService<AuditStore>().ListAsync(new AuditEventQuery(stored.Id), 0, 10);
            Assert.Equal([AuditEventKinds.LoginSucceeded, AuditEventKinds.UserCreated], events.Select(e => e.Kind).ToArray());
            Assert.Equal(("", "postern createuser"), (events[1].Address, events[1].UserAgent));
        }

        [Fact]
        public async Task CreateuserWithSuperuserImpliesStaff()
        {
            var result = await CreateUserAsync("root", "root-password", "--superuser");
            Assert.True(result.ExitCode == 0, result.ToString());
            var stored = await StoredUserAsync("root");
            Assert.True(stored is { IsStaff: true, IsSuperuser: true }, stored?.ToString());
        }

        [Fact]
        public async Task DuplicateUsernameIsExit1WithAnErrorLineAndChangesNothing()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "alice-password")).ExitCode);
            var before = await StoredUserAsync("alice");

            var again = await CreateUserAsync("alice", "other-password", "--email", "new@x.org");
            Assert.True(again.ExitCode == 1, again.ToString());
            Assert.Equal("error: A user with the username 'alice' already exists.", again.Stderr.Trim());
            Assert.Equal(before, await StoredUserAsync("alice"));
            Assert.Equal(1, await CountUsersAsync());
        }

        [Theory]
        [InlineData("")]
        [InlineData("al ice")]
        [InlineData("alice!")]
        [InlineData(" ")]
        [InlineData("151")]
        public async Task InvalidUsernameIsExit1(string username)
        {
            if (username == "151")
                username = new string('u', 151);
            var result = await CreateUserAsync(username, "some-password");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }

        [Fact]
        public async Task UsernameOf150CharsIsAccepted()
        {
            var result = await CreateUserAsync(new string('u', 150), "some-password");
            Assert.True(result.ExitCode == 0, result.ToString());
        }

        [Fact]
        public async Task NonAsciiPasswordFromStdinIsTheOneThatLogsIn()
        {
            // stdin is decoded as UTF-8 and JSON bodies too: the same characters must hash alike on both paths.
            const string password = "pässwörd-ünïcode-密码";
            var result = await CreateUserAsync("alice", password);
            Assert.True(result.ExitCode == 0, result.ToString());
            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", password)).Response.Status);
        }

        [Fact]
        public async Task TwoCreateusersRacingForOneNameMakeOneUserAndOneErrorLine()
        {
            Assert.Equal(0, (await RunAsync(null, "migrate", "--db", Db)).ExitCode);
            var results = await Task.WhenAll(CreateUserAsync("alice", "first-password"), CreateUserAsync("alice", "second-password"));
            Assert.Single(results, r => r.ExitCode == 0);
            var loser = Assert.Single(results, r => r.ExitCode != 0);
            Assert.True(loser.ExitCode == 1, loser.ToString());
            Assert.Equal("error: A user with the username 'alice' already exists.", loser.Stderr.Trim());
            Assert.Equal(1, await CountUsersAsync());
        }

        [Theory]
        [InlineData("")]
        [InlineData("\n")]
        [InlineData("\r\n")]
        public async Task PasswordStdinWithoutAPasswordIsExit1(string stdin)
        {
            var result = await RunAsync(stdin, "createuser", "alice", "--db", Db, "--password-stdin");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }

        [Fact]
        public async Task PasswordStdinOverTheLengthLimitIsExit1()
        {
            var result = await CreateUserAsync("alice", new string('p', DjangoPasswordHash.MaxPasswordLength + 1));
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains("4096", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }

        [Fact]
        public async Task PasswordStdinReadsOnlyTheFirstLine()
        {
            var result = await RunAsync("first-password\nsecond-line\n", "createuser", "alice", "--db", Db, "--password-stdin");
            Assert.True(result.ExitCode == 0, result.ToString());
            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", "first-password")).Response.Status);
        }

        [Fact]
        public async Task WithoutPasswordStdinARedirectedStdinIsRefusedWithAHint()
        {
            var result = await RunAsync("alice-password\n", "createuser", "alice", "--db", Db);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("--password-stdin", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }
    }

    /// <summary>The password validators in <c>createuser</c> and <c>changepassword</c>, as in Django's commands.</summary>
    public sealed class PasswordValidators : AdminCommandTest
    {
        private const string CreateRefused = "error: Password validation failed; pass --force to create the user anyway.";
        private const string ChangeRefused = "error: Password validation failed; pass --force to set it anyway.";

        [Fact]
        public async Task AWeakPasswordFromStdinIsExit1WithEachMessageOnItsOwnLine()
        {
            var result = await CreateUserAsync("alice", "12345");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Equal(
                [
                    "This password is too short. It must contain at least 8 characters.", "This password is too common.",
                    "This password is entirely numeric.", CreateRefused,
                ],
                Lines(result.Stderr));
            Assert.Equal("", result.Stdout);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }

        [Fact]
        public async Task ThePasswordIsComparedWithTheUsernameAndEmailGiven()
        {
            var result = await CreateUserAsync("carol", "smith.example", "--email", "j.smith@example.org");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Equal(["The password is too similar to the email address.", CreateRefused], Lines(result.Stderr));
        }

        [Fact]
        public async Task ForceCreatesTheUserWithAWeakPassword()
        {
            var result = await CreateUserAsync("alice", "12345", "--force");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("", result.Stderr);
            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", "12345")).Response.Status);
        }

        [Fact]
        public async Task ChangepasswordRefusesAWeakPasswordUnlessForcedComparingItWithTheStoredUser()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "alice-password", "--email", "wonderland@example.org")).ExitCode);
            var before = await StoredUserAsync("alice");

            var similar = await RunAsync("wonderland1\n", "changepassword", "alice", "--db", Db, "--password-stdin");
            Assert.True(similar.ExitCode == 1, similar.ToString());
            Assert.Equal(["The password is too similar to the email address.", ChangeRefused], Lines(similar.Stderr));
            var common = await RunAsync("Password\n", "changepassword", "alice", "--db", Db, "--password-stdin");
            Assert.Equal(["This password is too common.", ChangeRefused], Lines(common.Stderr));
            Assert.Equal(before, await StoredUserAsync("alice"));

            var forced = await RunAsync("wonderland1\n", "changepassword", "alice", "--db", Db, "--password-stdin", "--force");
            Assert.True(forced.ExitCode == 0, forced.ToString());
            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", "wonderland1")).Response.Status);
        }

        [Fact]
        public async Task TheConfiguredValidatorsApply()
        {
            var longer = new Dictionary<string, string?>
            {
                ["Postern__Accounts__PasswordValidators__0__Name"] = "MinimumLength",
                ["Postern__Accounts__PasswordValidators__0__Options__MinLength"] = "20",
            };
            var refused = await PosternProcess.RunAsync(Folder, ["createuser", "alice", "--db", Db, "--password-stdin"],
                "alice-password\n", longer);
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Equal(["This password is too short. It must contain at least 20 characters.", CreateRefused], Lines(refused.Stderr));

            var none = new Dictionary<string, string?> { ["Postern__Accounts__PasswordValidators"] = "" };
            var accepted = await PosternProcess.RunAsync(Folder, ["createuser", "bob", "--db", Db, "--password-stdin"], "1\n", none);
            Assert.True(accepted.ExitCode == 0, accepted.ToString());
        }

        [Fact]
        public async Task AnUnknownValidatorIsExit1WithAnErrorLine()
        {
            var bogus = new Dictionary<string, string?> { ["Postern__Accounts__PasswordValidators__0__Name"] = "Bogus" };
            var result = await PosternProcess.RunAsync(Folder, ["createuser", "alice", "--db", Db, "--password-stdin"],
                "alice-password\n", bogus);
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("Postern:Accounts:PasswordValidators:0: unknown password validator 'Bogus'", result.Stderr,
                StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, await CountUsersIfAnyAsync());
        }

        [Fact]
        public async Task AtATerminalCreateuserAsksWhetherToBypassAndOtherwiseAsksAgain()
        {
            Assert.Equal(0, (await RunAsync(null, "migrate", "--db", Db)).ExitCode);
            var declined = await TerminalSession.RunAsync(Folder, ["createuser", "alice", "--db", Db],
            [
                ("Password: ", "12345\r"), ("Password (again): ", "12345\r"),
                (Commands.NewPasswordChoice.BypassQuestion, "n\r"),
                ("Password: ", "alice-password\r"), ("Password (again): ", "alice-password\r"),
            ]);
            Assert.True(declined is { ExitCode: 0, AllPromptsSeen: true }, declined.ToString());
            Assert.Contains("This password is too short. It must contain at least 8 characters.", declined.Screen,
                StringComparison.Ordinal);
            Assert.Contains("This password is entirely numeric.", declined.Screen, StringComparison.Ordinal);
            Assert.Contains("Created user 'alice'.", declined.Screen, StringComparison.Ordinal);
            Assert.DoesNotContain("alice-password", declined.Screen, StringComparison.Ordinal);

            var bypassed = await TerminalSession.RunAsync(Folder, ["createuser", "bob", "--db", Db],
            [
                ("Password: ", "bob\r"), ("Password (again): ", "bob\r"), (Commands.NewPasswordChoice.BypassQuestion, "Y\r"),
            ]);
            Assert.True(bypassed is { ExitCode: 0, AllPromptsSeen: true }, bypassed.ToString());
            Assert.Contains("The password is too similar to the username.", bypassed.Screen, StringComparison.Ordinal);

            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", "alice-password")).Response.Status);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "bob", "bob")).Response.Status);
        }

        [Fact]
        public async Task AtATerminalChangepasswordGivesUpAfterThreeRefusedPasswords()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "alice-password")).ExitCode);
            var before = await StoredUserAsync("alice");
            var steps = Enumerable.Range(0, Commands.NewPasswordChoice.ChangePasswordAttempts)
                .SelectMany(_ => new[] { ("Password: ", "qwerty\r"), ("Password (again): ", "qwerty\r") })
                .ToList();
            var result = await TerminalSession.RunAsync(Folder, ["changepassword", "alice", "--db", Db], steps);
            Assert.True(result is { ExitCode: 1, AllPromptsSeen: true }, result.ToString());
            Assert.Equal(3, CountOf(result.Screen, "This password is too short."));
            Assert.Contains("error: Aborting password change for user 'alice' after 3 attempts.", result.Screen, StringComparison.Ordinal);
            Assert.Equal(before, await StoredUserAsync("alice"));
        }

        [Theory]
        [InlineData("createuser")]
        [InlineData("changepassword")]
        public async Task HelpDescribesForce(string command)
        {
            var result = await RunAsync(null, command, "--help");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("--force", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("password validators", result.Stdout, StringComparison.Ordinal);
        }

        private static string[] Lines(string text) =>
            text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        private static int CountOf(string text, string part) =>
            (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
    }

    /// <summary><c>clearsessions</c>: Django's command of the same name.</summary>
    public sealed class ClearSessions : AdminCommandTest
    {
        [Fact]
        public async Task ClearsessionsDeletesTheExpiredSessionsAndKeepsTheLiveOnes()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "alice-password")).ExitCode);
            string live, stale;
            // The server's own folder: a test server deletes its folder when it stops, and Db lives in Folder.
            await using (var server = await PosternTestServer.StartAsync(databasePath: Db))
            {
                live = (await LogInAsync(server.BaseAddress, "alice", "alice-password")).Session!;
                stale = (await LogInAsync(server.BaseAddress, "alice", "alice-password")).Session!;
            }
            Assert.Equal(1, await TestStore.ExecuteAsync(Db, "UPDATE sessions SET expires_at = 1 WHERE session_key = @key;",
                ("@key", stale)));

            var result = await RunAsync(null, "clearsessions", "--db", Db);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("Deleted 1 expired session.", result.Stdout.Trim());
            Assert.Equal(0, await TestStore.QueryInt64Async(Db, "SELECT COUNT(*) FROM sessions WHERE session_key = @key;", ("@key", stale)));
            Assert.Equal(1, await TestStore.QueryInt64Async(Db, "SELECT COUNT(*) FROM sessions WHERE session_key = @key;", ("@key", live)));

            var again = await RunAsync(null, "clearsessions", "--db", Db);
            Assert.Equal("Deleted 0 expired sessions.", again.Stdout.Trim());
            await using var restarted = await PosternTestServer.StartAsync(databasePath: Db);
            Assert.Equal(HttpStatusCode.OK, (await GetUserAsync(restarted.BaseAddress, live)).Status);
        }
    }

    /// <summary><c>changepassword</c>, and <c>POSTERN_DB</c>.</summary>
    public sealed class ChangePassword : AdminCommandTest
    {
        [Fact]
        public async Task ChangepasswordEndsTheUsersSessions()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "old-password")).ExitCode);
            await using var server = await PosternTestServer.StartAsync(folder: Folder, databasePath: Db);
            var (login, session) = await LogInAsync(server.BaseAddress, "alice", "old-password");
            Assert.Equal(HttpStatusCode.OK, login.Status);
            Assert.Equal(HttpStatusCode.OK, (await GetUserAsync(server.BaseAddress, session)).Status);

            var result = await RunAsync("new-password\n", "changepassword", "alice", "--db", Db, "--password-stdin");
            Assert.True(result.ExitCode == 0, result.ToString());

            var refused = await GetUserAsync(server.BaseAddress, session);
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal(AuthEndpointsNotAuthenticated, refused.Detail);
            var alice = await server.Users.FindUserByUsernameAsync("alice");
            Assert.Empty(await server.Sessions.ListLiveSessionsOfUserAsync(alice!.Id, DateTimeOffset.UtcNow));
            Assert.Equal(HttpStatusCode.Unauthorized, (await LogInAsync(server.BaseAddress, "alice", "old-password")).Response.Status);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(server.BaseAddress, "alice", "new-password")).Response.Status);
        }

        [Fact]
        public async Task ChangepasswordOfAnUnknownUserIsExit1()
        {
            Assert.Equal(0, (await RunAsync(null, "migrate", "--db", Db)).ExitCode);
            var result = await RunAsync("new-password\n", "changepassword", "nobody", "--db", Db, "--password-stdin");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Equal("error: There is no user 'nobody'.", result.Stderr.Trim());
        }

        [Fact]
        public async Task ChangepasswordWithAnEmptyPasswordIsExit1AndKeepsTheOldOne()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "old-password")).ExitCode);
            var before = await StoredUserAsync("alice");
            var result = await RunAsync("\n", "changepassword", "alice", "--db", Db, "--password-stdin");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(before, await StoredUserAsync("alice"));
        }


        [Fact]
        public async Task PosternDbSelectsTheDatabaseWhenDbIsAbsent()
        {
            var fromEnvironment = await TestStore.NewDatabaseAsync(Folder, "from-env");
            var environment = new Dictionary<string, string?> { [Commands.PosternCommandLine.DatabaseVariable] = fromEnvironment };
            var result = await PosternProcess.RunAsync(Folder, ["createuser", "bob", "--password-stdin"], "bob-password\n", environment);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.NotNull(await StoredUserAsync("bob", fromEnvironment));
            Assert.False(File.Exists(Path.Combine(Folder, "postern.sqlite3")), "the default database was created too");

            // --db wins over the variable.
            var explicitDb = await TestStore.NewDatabaseAsync(Folder, "explicit");
            var overridden = await PosternProcess.RunAsync(Folder,
                ["createuser", "carol", "--db", explicitDb, "--password-stdin"], "carol-password\n", environment);
            Assert.True(overridden.ExitCode == 0, overridden.ToString());
            Assert.NotNull(await StoredUserAsync("carol", explicitDb));
            Assert.Null(await StoredUserAsync("carol", fromEnvironment));
        }

        [Fact]
        public async Task DbOptionIsAcceptedBeforeTheCommandToo()
        {
            var result = await RunAsync("bob-password\n", "--db", Db, "createuser", "bob", "--password-stdin");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.NotNull(await StoredUserAsync("bob"));
        }
    }

    /// <summary><c>serve</c>: the first admin.</summary>
    public sealed class Serve : AdminCommandTest
    {
        [Fact]
        public async Task ServeOnAnEmptyDatabaseCreatesAdminOnceAndItsPasswordLogsIn()
        {
            string password;
            await using (var first = await ServeProcess.StartAsync(Folder, Db))
            {
                var line = first.Stdout.Split('\n').Select(l => l.Trim())
                    .Single(l => l.StartsWith("Created the first user", StringComparison.Ordinal));
                var match = System.Text.RegularExpressions.Regex.Match(line, "^Created the first user 'admin' with password: (\\S+)$");
                Assert.True(match.Success, line);
                password = match.Groups[1].Value;
                Assert.True(password.Length >= 16, password);

                var (login, session) = await LogInAsync(first.Address, "admin", password);
                Assert.Equal(HttpStatusCode.OK, login.Status);
                var user = await GetUserAsync(first.Address, session);
                Assert.Equal("admin", user.Json().GetProperty("username").GetString());
                Assert.True(user.Json().GetProperty("is_staff").GetBoolean());
            }

            await using var second = await ServeProcess.StartAsync(Folder, Db);
            Assert.DoesNotContain("admin", second.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(password, second.Stdout + second.Stderr, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(second.Address, "admin", password)).Response.Status);
            Assert.Equal(1, await CountUsersAsync());
        }

        [Fact]
        public async Task TwoServersStartingOnOneEmptyDatabaseCreateOneAdmin()
        {
            var starting = new[] { ServeProcess.StartAsync(Folder, Db), ServeProcess.StartAsync(Folder, Db) };
            try
            {
                var servers = await Task.WhenAll(starting);
                var announcements = servers.Sum(s => CountOccurrences(s.Stdout, "Created the first user 'admin'"));
                Assert.True(announcements == 1, string.Join("\n---\n", servers.Select(s => s.Stdout + s.Stderr)));
                Assert.Equal(1, await CountUsersAsync());
            }
            finally
            {
                foreach (var start in starting)
                {
                    if (await Task.WhenAny(start) is { IsCompletedSuccessfully: true } started)
                        await (await started).DisposeAsync();
                }
            }
        }

        private static int CountOccurrences(string text, string part) =>
            (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

        [Fact]
        public async Task ServeOnADatabaseWithUsersCreatesNoAdmin()
        {
            Assert.Equal(0, (await CreateUserAsync("alice", "alice-password")).ExitCode);
            await using var serve = await ServeProcess.StartAsync(Folder, Db);
            Assert.DoesNotContain("Created the first user", serve.Stdout, StringComparison.Ordinal);
            Assert.Null(await StoredUserAsync("admin"));
        }

        [Fact]
        public async Task TheFirstStartsHintChangesThePasswordWhenRunAsWrittenFromAnotherFolder()
        {
            await using var serve = await ServeProcess.StartAsync(Folder, Db);
            var hint = serve.Stdout.Split('\n').Select(l => l.Trim())
                .Single(l => l.StartsWith("It is shown only this once", StringComparison.Ordinal));
            var command = hint[(hint.IndexOf("change it with: ", StringComparison.Ordinal) + "change it with: ".Length)..];
            Assert.StartsWith("dotnet /", command, StringComparison.Ordinal);

            // As an operator would paste it, in another folder, in a shell (plus --password-stdin: there is no terminal here).
            var elsewhere = Directory.CreateTempSubdirectory("postern-elsewhere-").FullName;
            var shell = new System.Diagnostics.ProcessStartInfo("bash", ["-c", command + " --password-stdin"])
            {
                WorkingDirectory = elsewhere,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            shell.Environment["Postern__Accounts__PasswordIterations"] =
                PosternTestServer.FastIterations.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (var process = System.Diagnostics.Process.Start(shell)!)
            {
                await process.StandardInput.WriteLineAsync("a-new-admin-password");
                process.StandardInput.Close();
                var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                Assert.True(process.ExitCode == 0, command + "\n" + output);
            }
            Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
            Assert.Equal(HttpStatusCode.OK, (await LogInAsync(serve.Address, "admin", "a-new-admin-password")).Response.Status);
        }

        [Fact]
        public async Task DemoDataCreatesTheWalkthroughsUsersAndGroupsOnceBesideAdmin()
        {
            await using (var first = await ServeProcess.StartAsync(Folder, Db, extraArgs: "--demo-data"))
            {
                Assert.Contains("Created the first user 'admin'", first.Stdout, StringComparison.Ordinal);
                Assert.Contains("Demo data: created alice (password alice-password, staff) and bob (password bob-password).",
                    first.Stdout, StringComparison.Ordinal);
                var (login, session) = await LogInAsync(first.Address, "alice", "alice-password");
                Assert.Equal(HttpStatusCode.OK, login.Status);
                using var client = RawHttp.CreateClient(first.Address);
                var alice = await client.SendAsync(HttpMethod.Get, "/api/users/2/", [("Cookie", $"{CookieNames.Session}={session}")]);
                Assert.Equal("alice", alice.Json().GetProperty("username").GetString());
                Assert.Equal(2, alice.Json().GetProperty("groups").GetArrayLength());
                Assert.Equal(HttpStatusCode.OK, (await LogInAsync(first.Address, "bob", "bob-password")).Response.Status);
            }
            await using var second = await ServeProcess.StartAsync(Folder, Db, extraArgs: "--demo-data");
            Assert.DoesNotContain("Demo data", second.Stdout, StringComparison.Ordinal);
            Assert.Equal(3, await CountUsersAsync());
        }

        [Theory]
        [InlineData("INT")]
        [InlineData("TERM")]
        public async Task ServeStopsGracefullyOnSigintAndSigterm(string signal)
        {
            var serve = await ServeProcess.StartAsync(Folder, Db);
            await using (serve)
            {
                await serve.SignalAsync(signal);
                var exit = await serve.WaitForExitAsync(TimeSpan.FromSeconds(30));
                Assert.True(exit is not null, $"still running 30 s after SIG{signal}:\n{serve.Stdout}");
                Assert.Contains("Application is shutting down", serve.Stdout, StringComparison.Ordinal);
            }
        }

        [Fact]
        [Trait("Store", "sqlite-only")]
        public async Task WithoutDbTheDatabaseIsPosternSqlite3InTheFolderServeRunsIn()
        {
            await using var serve = await ServeProcess.StartAsync(Folder, database: null);
            var expected = Path.Combine(Folder, "postern.sqlite3");
            Assert.True(File.Exists(expected), string.Join(", ", Directory.GetFileSystemEntries(Folder)));
            Assert.Contains($"Database: SQLite {expected}", serve.Stdout, StringComparison.Ordinal);
        }

        [Fact]
        public async Task ServeOnAnUnusableDatabaseIsExit1WithAnErrorLine()
        {
            var unusable = await TestStore.UnusableDatabaseAsync(Folder);
            var result = await RunAsync(null, "serve", "--db", unusable, "--urls", $"http://127.0.0.1:{PosternProcess.FreeLoopbackPort()}");
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }

        /// <summary>A mistyped setting, read from the environment as an operator writes it: one line naming it, exit 1.</summary>
        [Theory]
        [InlineData("Postern__Cors__AllowedOrigins__0", "http://localhost:5173/",
            "error: Postern:Cors:AllowedOrigins:0: 'http://localhost:5173/' is not an origin")]
        [InlineData("Postern__Cors__AllowedOrigins", "http://localhost:5173,localhost:5174",
            "error: Postern:Cors:AllowedOrigins: 'localhost:5174' has no scheme")]
        [InlineData("Postern__Throttling__Rates__signup_address", "five", "error: Postern:Throttling:Rates:signup_address: 'five' is not a rate")]
        public async Task ServeWithAMistypedSettingIsExit1WithAnErrorLine(string variable, string value, string line)
        {
            var database = await TestStore.NewDatabaseAsync(Folder);
            var result = await PosternProcess.RunAsync(Folder,
                ["serve", "--db", database, "--urls", $"http://127.0.0.1:{PosternProcess.FreeLoopbackPort()}"],
                environment: new Dictionary<string, string?> { [variable] = value });
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.StartsWith(line, result.Stderr, StringComparison.Ordinal);
            Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    /// <summary>Mistyped command lines.</summary>
    public sealed class Usage : AdminCommandTest
    {
        [Theory]
        [InlineData("frobnicate")]
        [InlineData("createuser", "alice", "--frob")]
        [InlineData("migrate", "--no-such-option")]
        [InlineData("createuser")]
        [InlineData("changepassword")]
        [InlineData("createuser", "a", "b")]
        [InlineData("--db")]
        public async Task UnknownCommandOrOptionIsAUsageErrorOnStderr(params string[] args)
        {
            var result = await RunAsync(null, args);
            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains("Usage:", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Usage:", result.Stdout, StringComparison.Ordinal);
            Assert.True(Directory.GetFileSystemEntries(Folder).Length == 0, "a usage error created a database");
        }

        [Fact]
        public async Task HelpIsOnStdoutWithExit0()
        {
            var result = await RunAsync(null, "--help");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("createuser", result.Stdout, StringComparison.Ordinal);
        }
    }
}

/// <summary>A temporary working folder and database per test, and the ways the tests look at the results.</summary>
public abstract class AdminCommandTest : IAsyncLifetime
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory("postern-cmd-").FullName;

    /// <summary>A database no command has touched yet: a SQLite path in <see cref="Folder"/>, or an empty PostgreSQL database.</summary>
    protected string Db { get; private set; } = "";

    public async Task InitializeAsync() => Db = await TestStore.NewDatabaseAsync(Folder);

    public Task DisposeAsync()
    {
        // The database's pooled SQLite connections may still hold the files: on Linux they are deleted all the same.
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    protected Task<CommandResult> RunAsync(string? stdin, params string[] args) => PosternProcess.RunAsync(Folder, args, stdin);

    protected Task<CommandResult> CreateUserAsync(string username, string password, params string[] extra) =>
        RunAsync(password + "\n", ["createuser", username, "--db", Db, "--password-stdin", .. extra]);

    protected const string AuthEndpointsNotAuthenticated = "Authentication credentials were not provided.";

    /// <summary>What the commands stored, read through a database and store of the test's own (as another tool would).</summary>
    protected static async Task<T> ReadStoreAsync<T>(string database, Func<IUserStore, Task<T>> read)
    {
        await using var opened = Database.Open(database);
        return await read(new UserStore(opened, TimeProvider.System));
    }

    protected Task<User?> StoredUserAsync(string username, string? database = null) =>
        ReadStoreAsync(database ?? Db, store => store.FindUserByUsernameAsync(username));

    protected Task<long> CountUsersAsync() => ReadStoreAsync(Db, store => store.CountUsersAsync());

    protected async Task<long> CountUsersIfAnyAsync() => (await TestStore.TablesAsync(Db)).Contains("users") ? await CountUsersAsync() : 0;

    protected Task<long> SchemaVersionAsync() => TestStore.QueryInt64Async(Db, "SELECT MAX(version) FROM schema_version;");

    /// <summary>
    /// Logs in as a browser would: fetch the CSRF cookie and token, post the credentials; returns the response and
    /// session key.
    /// </summary>
    protected static async Task<(RawResponse Response, string? Session)> LogInAsync(Uri server, string username, string password)
    {
        using var client = RawHttp.CreateClient(server);
        var jar = new CookieJar();
        var csrf = await client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf);
        jar.Absorb(csrf);
        var token = csrf.Json().GetProperty("csrfToken").GetString()!;
        var body = System.Text.Json.JsonSerializer.Serialize(
            new Dictionary<string, string> { ["username"] = username, ["password"] = password });
        var login = await client.SendAsync(HttpMethod.Post, EndpointPaths.Login,
            [.. jar.Header(), (HeaderNames.CsrfToken, token)], RawHttp.Json(body));
        return (login, login.Cookie(CookieNames.Session)?.Value);
    }

    protected static async Task<RawResponse> GetUserAsync(Uri server, string? session)
    {
        using var client = RawHttp.CreateClient(server);
        return await client.SendAsync(HttpMethod.Get, EndpointPaths.User,
            session is null ? [] : [("Cookie", $"{CookieNames.Session}={session}")]);
    }
}
