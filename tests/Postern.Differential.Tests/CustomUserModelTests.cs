using System.Net;
using Postern.Protocol;
using Postern.Testing;

using static Postern.Differential.Tests.BesideDjangoTests;
using static Postern.Differential.Tests.SeedClient;

namespace Postern.Differential.Tests;

/// <summary>
/// Postern beside a Django project whose users are its own model (<c>AUTH_USER_MODEL = "customuser.User"</c>, AbstractUser
/// and a column more), named to Postern by <c>Postern:Django:UserTable</c>: its users, their groups and their sessions are
/// shared both ways, as with Django's own <c>auth_user</c>.
/// </summary>
public sealed class CustomUserModelTests(CustomUserDjangoDatabases django) : IClassFixture<CustomUserDjangoDatabases>
{
    [Theory]
    [MemberData(nameof(Kinds), MemberType = typeof(BesideDjangoTests))]
    public async Task UsersGroupsAndSessionsAreTheProjectsOwnModel(PeerKind kind)
    {
        await using var postern = await django.StartPosternAsync(kind);
        using var onDjango = django[kind].CreateRawClient();
        using var onPostern = postern.CreateRawClient();
        var database = django.DatabaseOf(kind);

        // Django's seed, in the project's table: alice signs in on Postern, and her groups come from customuser_user_groups.
        var alice = await LogInAsync(onPostern, "alice", "alice-password");
        Assert.Equal("alice", await WhoIsAsync(onPostern, alice));
        Assert.Equal("alice", await WhoIsAsync(onDjango, alice));
        var aliceId = await TestStore.QueryInt64Async(database, "SELECT id FROM customuser_user WHERE username = 'alice';");
        var detail = await SendAsync(onPostern, alice, HttpMethod.Get, $"/api/users/{aliceId}/");
        Assert.Equal(HttpStatusCode.OK, detail.Status);
        Assert.Equal(2, detail.Json().GetProperty("groups").GetArrayLength());

        // A user Postern makes is a row of the project's model, which Django signs in; the column Postern does not know stays NULL.
        var (name, password) = await NewUserAsync(postern, "custom");
        Assert.Equal(1, await TestStore.QueryInt64Async(database,
            "SELECT COUNT(*) FROM customuser_user WHERE username = @name AND nickname IS NULL;", ("@name", name)));
        var openedOnDjango = await LogInAsync(onDjango, name, password);
        Assert.Equal(name, await WhoIsAsync(onPostern, openedOnDjango));

        // Staff on Postern put the user in a group; Django's own ORM reads the membership from customuser_user_groups.
        var userId = await TestStore.QueryInt64Async(database, "SELECT id FROM customuser_user WHERE username = @name;", ("@name", name));
        var readersId = await TestStore.QueryInt64Async(database, "SELECT id FROM auth_group WHERE name = 'readers';");
        var patched = await SendAsync(onPostern, alice, HttpMethod.Patch, $"/api/users/{userId}/",
            $$"""{"groups": ["{{postern.BaseAddress}}api/groups/{{readersId}}/"]}""");
        Assert.Equal(HttpStatusCode.OK, patched.Status);
        var shell = await django[kind].ManageAsync("shell", "-c",
            $"from django.contrib.auth import get_user_model; print(list(get_user_model().objects.get(username='{name}').groups.values_list('name', flat=True)))");
        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("['readers']", shell.Stdout, StringComparison.Ordinal);

        // A logout on Django ends the session on Postern at once.
        await SendAsync(onDjango, openedOnDjango, HttpMethod.Get, EndpointPaths.Logout);
        Assert.Null(await WhoIsAsync(onPostern, openedOnDjango));
    }

    [Fact]
    public async Task WithoutTheModelsTableNamedPosternRefusesToStartAndSaysWhichSettingNamesIt()
    {
        var folder = Directory.CreateTempSubdirectory("postern-custom-user-refused-").FullName;
        try
        {
            var refused = await PosternProcess.RunAsync(folder, ["migrate", "--schema", "django", "--db", django.DatabaseOf(PeerKind.Modern)],
                environment: new Dictionary<string, string?> { ["Postern__SecretKey"] = DjangoDatabases.SecretKey });
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("The user table auth_user of", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("Postern:Django:UserTable names a custom user model's table", refused.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
