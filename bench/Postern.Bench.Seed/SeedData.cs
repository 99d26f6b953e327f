namespace Postern.Bench.Seed;

public sealed record SeedUser(int Id, string Username, string Email, string? Password, bool IsStaff, IReadOnlyList<int> GroupIds);

public sealed record SeedGroup(int Id, string Name);

/// <summary>
/// The users and groups of the Django peer (tests/django-backend: manage.py seed_users), in the order it creates
/// them, so ids match on every server: alice (staff, id 1), bob (id 2), user000… (ids 3…); groups staff
/// (1) and readers (2). The baselines serve them from memory; Postern is seeded with them.
/// </summary>
public static class SeedData
{
    public const string StaffUsername = "alice";
    public const string StaffPassword = "alice-password";

    /// <summary>
    /// Who the login scenarios sign in, thousands of times: not alice, whose sessions the other scenarios read with and
    /// which a server that bounds sessions per user (Postern) would end.
    /// </summary>
    public const string LoginUsername = "bob";
    public const string LoginPassword = "bob-password";
    public const int ExtraUsers = 25;

    public static IReadOnlyList<SeedGroup> Groups { get; } = [new(1, "staff"), new(2, "readers")];

    public static IReadOnlyList<SeedUser> Users { get; } =
    [
        new(1, StaffUsername, "alice@example.org", StaffPassword, IsStaff: true, [1, 2]),
        new(2, LoginUsername, "bob@example.org", LoginPassword, IsStaff: false, [2]),
        .. Enumerable.Range(0, ExtraUsers)
            .Select(i => new SeedUser(3 + i, $"user{i:000}", $"user{i:000}@example.org", null, IsStaff: false, [])),
    ];

    public static SeedUser? FindUser(int id) => id >= 1 && id <= Users.Count ? Users[id - 1] : null;
}
