using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The storage seam itself, on whichever store <see cref="TestStore"/> gives: what both stores must answer alike
/// where the API's own checks cannot help (two writers racing past them).
/// </summary>
public sealed class StoreTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly PosternTestServer _server = fixture.Server;

    [Fact]
    public async Task TheStoreRefusesDuplicatesItself()
    {
        // The unique constraints, not only the API's checks: two racing writers meet them.
        await Assert.ThrowsAsync<DuplicateUsernameException>(() => _server.Users.CreateUserAsync(new NewUser("bob", "", "!")));
        await Assert.ThrowsAsync<DuplicateGroupNameException>(() => _server.Groups.CreateGroupAsync("readers"));
        var carol = await _server.Users.CreateUserAsync(new NewUser("store-carol", "", "!"));
        await Assert.ThrowsAsync<DuplicateUsernameException>(
            () => _server.Users.UpdateUserAsync(carol.Id, new UserChanges(Username: "bob")));
        var group = await _server.Groups.CreateGroupAsync("store-group");
        await Assert.ThrowsAsync<DuplicateGroupNameException>(() => _server.Groups.RenameGroupAsync(group.Id, "readers"));
    }

    [Fact]
    public async Task AWriteNamingAUserOrGroupDeletedMeanwhileIsRefusedAndChangesNothing()
    {
        // What a write meets when a group or user was deleted after the API checked it (SQLite once reported this
        // as a taken username, PostgreSQL as a server error).
        var readers = (await _server.Groups.FindGroupByNameAsync("readers"))!;
        var gone = await _server.Groups.CreateGroupAsync("store-gone");
        Assert.True(await _server.Groups.DeleteGroupAsync(gone.Id));

        await Assert.ThrowsAsync<MissingReferenceException>(
            () => _server.Users.CreateUserAsync(new NewUser("store-dana", "", "!") { GroupIds = [readers.Id, gone.Id] }));
        Assert.Null(await _server.Users.FindUserByUsernameAsync("store-dana"));

        var erin = await _server.Users.CreateUserAsync(new NewUser("store-erin", "", "!") { GroupIds = [readers.Id] });
        await Assert.ThrowsAsync<MissingReferenceException>(
            () => _server.Users.UpdateUserAsync(erin.Id, new UserChanges(Email: "erin@example.org", GroupIds: [gone.Id])));
        var unchanged = (await _server.Users.FindUserWithGroupsAsync(erin.Id))!;
        Assert.Equal("", unchanged.User.Email);
        Assert.Equal([readers.Id], unchanged.GroupIds);
        await Assert.ThrowsAsync<MissingReferenceException>(() => _server.Groups.AddUserToGroupAsync(erin.Id, gone.Id));

        // A login that checked the password just before the user was deleted.
        await _server.Users.DeleteUserAsync(erin.Id);
        var now = DateTimeOffset.UtcNow;
        var session = new SessionRecord(SessionKey.New(), erin.Id, "auth-hash", now, now, now.AddHours(1), null);
        await Assert.ThrowsAsync<MissingReferenceException>(() => _server.Sessions.CreateSessionAsync(session, replacedKey: null));
        Assert.Null(await _server.Sessions.FindLiveSessionAsync(session.Key, now));
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task ANewUserJoinsAtTheTimeProvidersNow()
    {
        var joined = new DateTimeOffset(2024, 2, 29, 12, 0, 0, TimeSpan.Zero);
        await using var database = Database.Open(_server.DatabasePath);
        var users = new UserStore(database, new FixedTime(joined));

        var created = await users.CreateUserAsync(new NewUser("store-joined-on-a-leap-day", "", "!"));
        Assert.Equal(joined, created.DateJoined);
        Assert.Equal(joined, (await users.FindUserByIdAsync(created.Id))?.DateJoined);
    }
}
