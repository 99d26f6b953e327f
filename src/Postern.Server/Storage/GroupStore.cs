using System.Data.Common;
using Postern.Server.Storage.Caching;

namespace Postern.Server.Storage;

/// <summary>
/// Groups, in the <c>groups</c> table: its plain operations are a <see cref="TableStore{TRecord}"/>'s; finding by name,
/// memberships and the groups of a user are SQL of its own. Reads by id, name, page, count and user are cached.
/// </summary>
public sealed class GroupStore(Database database) : IGroupStore
{
    public static readonly TableMapping<Group> Groups = new TableMapping<Group>("groups",
            read: row => new Group(row.GetInt64(0), row.GetString(1)),
            withId: (group, id) => group with { Id = id })
        .Text("name", group => group.Name);

    private static readonly CachedQuery ByName = new("group by name");
    private static readonly CachedQuery OfUser = new("groups of a user");

    private readonly TableStore<Group> _groups = new(database, Groups);

    public async Task<Group> CreateGroupAsync(string name, CancellationToken ct = default)
    {
        try
        {
            return await _groups.CreateAsync(new Group(0, name), ct);
        }
        catch (DuplicateValueException e) when (e.Column == "name")
        {
            throw new DuplicateGroupNameException(name);
        }
    }

    public Task<Group?> FindGroupByNameAsync(string name, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(ByName, Text: name), db =>
            db.Command($"SELECT {Groups.SelectList} FROM groups WHERE name = @name;").With("@name", name)
                .ReadFirstOrDefaultAsync(Groups.Read), ct);

    public Task<Group?> FindGroupByIdAsync(long id, CancellationToken ct = default) => _groups.FindAsync(id, ct);

    public Task<long> CountGroupsAsync(CancellationToken ct = default) => _groups.CountAsync(ct);

    public Task<IReadOnlyList<Group>> ListGroupsAsync(int offset, int limit, CancellationToken ct = default) =>
        _groups.ListAsync(offset, limit, ct);

    /// <summary>Not cached: only writes ask it, and its argument is a set.</summary>
    public Task<IReadOnlySet<long>> FindExistingGroupIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) =>
        database.ReadAsync(async db =>
        {
            if (ids.Count == 0)
                return (IReadOnlySet<long>)new HashSet<long>();
            var query = db.Command("");
            query.CommandText = database.Translate($"SELECT id FROM groups WHERE {database.IsOneOf(query, "id", ids)};");
            return (await query.ReadAllAsync(StoredRows.ReadId)).ToHashSet();
        }, ct);

    public async Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default)
    {
        try
        {
            return await _groups.UpdateAsync(id, new Group(id, name), ct);
        }
        catch (DuplicateValueException e) when (e.Column == "name")
        {
            throw new DuplicateGroupNameException(name);
        }
    }

    public Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default) => _groups.DeleteAsync(id, ct);

    public Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default) => database.WriteAsync(async db =>
    {
        try
        {
            await db.Command(AddMembership).With("@userId", userId).With("@groupId", groupId).ExecuteAsync();
        }
        catch (DbException e) when (database.IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    public Task<IReadOnlyList<Group>> ListGroupsOfUserAsync(long userId, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(OfUser, userId), async db =>
            (IReadOnlyList<Group>)await db.Command(
                    "SELECT g.id, g.name FROM groups g JOIN user_groups m ON m.group_id = g.id WHERE m.user_id = @userId ORDER BY g.id;")
                .With("@userId", userId).ReadAllAsync(Groups.Read), ct);

    private const string AddMembership = "INSERT INTO user_groups (user_id, group_id) VALUES (@userId, @groupId) ON CONFLICT DO NOTHING;";

    /// <summary>Makes the user a member of each group, in <paramref name="tx"/>; a membership it already has stays as it is.</summary>
    internal static async Task AddMembershipsAsync(DbConnection db, DbTransaction tx, long userId, IReadOnlyList<long> groupIds)
    {
        foreach (var groupId in groupIds.Distinct())
            await db.Command(AddMembership, tx).With("@userId", userId).With("@groupId", groupId).ExecuteAsync();
    }
}
