using System.Data.Common;
using Postern.Protocol;
using Postern.Server.Sessions;
using Postern.Server.Storage;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Django;

/// <summary>What <c>import-django</c> is asked to do.</summary>
/// <param name="DjangoSecretKeys">
/// The Django project's SECRET_KEY and its SECRET_KEY_FALLBACKS: its sessions are signed, and their auth hashes keyed, with
/// them.
/// </param>
public sealed record DjangoImportOptions(bool WithSessions, bool DryRun, IReadOnlyList<string> DjangoSecretKeys);

/// <summary>How an import went, row by row kind.</summary>
public sealed class DjangoImportReport
{
    public int UsersAdded { get; set; }
    public int UsersUpdated { get; set; }
    public int UsersUnchanged { get; set; }

    /// <summary>Users whose hash is of a hasher Postern does not verify (Argon2, bcrypt...): they need a password reset.</summary>
    public int UsersWithForeignHashes { get; set; }
    public int GroupsAdded { get; set; }
    public int GroupsUnchanged { get; set; }
    public int MembershipsAdded { get; set; }
    public int MembershipsUnchanged { get; set; }
    public int SessionsAdded { get; set; }
    public int SessionsUnchanged { get; set; }
    public int SessionsExpired { get; set; }
    public int SessionsAnonymous { get; set; }
    public int SessionsUnreadable { get; set; }
    public int SessionsStale { get; set; }
    public int SessionsOtherBackend { get; set; }

    /// <summary>The lines the command prints.</summary>
    public IEnumerable<string> Lines(bool withSessions, bool dryRun)
    {
        yield return $"Users: {UsersAdded} added, {UsersUpdated} updated, {UsersUnchanged} unchanged";
        if (UsersWithForeignHashes > 0)
            yield return $"  ({UsersWithForeignHashes} with a password hash Postern does not verify, not PBKDF2: they can sign in "
                + "once they reset their password)";
        yield return $"Groups: {GroupsAdded} added, {GroupsUnchanged} unchanged";
        yield return $"Memberships: {MembershipsAdded} added, {MembershipsUnchanged} unchanged";
        if (withSessions)
        {
            yield return $"Sessions: {SessionsAdded} added, {SessionsUnchanged} unchanged; not imported: {SessionsExpired} expired, "
                + $"{SessionsAnonymous} without a user, {SessionsStale} from before a password change, "
                + $"{SessionsOtherBackend} from another authentication backend, {SessionsUnreadable} with a signature that does not verify";
            if (SessionsUnreadable > 0)
                yield return "  (signatures that do not verify: is the Django key given the project's SECRET_KEY? --django-secret-key, "
                    + "DJANGO_SECRET_KEY)";
        }
        if (dryRun)
            yield return "Dry run: nothing was written.";
    }
}

/// <summary>
/// Copies a Django project's users (their password hashes as they are, flags, names and dates), groups, memberships and,
/// when asked, signed-in sessions into Postern's own schema, in one transaction. Rows are matched by username and group
/// name, so a second run updates and adds, never duplicates; a new row keeps its Django id when Postern has no row with
/// it, so the API's URLs stay what they were. Nothing is deleted: a user removed from Django since an earlier run stays
/// in Postern (delete it there).
/// </summary>
public sealed class DjangoImport(Database database, SessionAuthHash authHash, TimeProvider time)
{
    public async Task<DjangoImportReport> RunAsync(DjangoContents source, DjangoImportOptions options, CancellationToken ct)
    {
        var report = new DjangoImportReport();
        Func<DbConnection, Task<bool>> import = async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var groupIds = await ImportGroupsAsync(db, tx, source.Groups, report);
            var userIds = await ImportUsersAsync(db, tx, source.Users, report);
            await ImportMembershipsAsync(db, tx, source.Memberships, userIds, groupIds, report);
            if (options.WithSessions)
                await ImportSessionsAsync(db, tx, source, userIds, options.DjangoSecretKeys, report);
            foreach (var table in new[] { "users", "groups" })
            {
                if (database.ResumeIdsAfter(table) is { } resume)
                    await db.Command(resume, tx).ReadInt64Async(ct);
            }
            if (options.DryRun)
                await tx.RollbackAsync(ct);
            else
                await tx.CommitAsync(ct);
            return true;
        };
        // A real import is announced, so that running instances drop what they cached; a dry run writes nothing to announce.
        if (options.DryRun)
            await database.WriteWithoutAnnouncingAsync(import, ct);
        else
            await database.WriteAsync(import, ct);
        return report;
    }

    /// <summary>Django's group id → Postern's.</summary>
    private static async Task<Dictionary<long, long>> ImportGroupsAsync(
        DbConnection db, DbTransaction tx, IReadOnlyList<Group> groups, DjangoImportReport report)
    {
        var ids = new Dictionary<long, long>();
        foreach (var group in groups)
        {
            var existing = await db.Command("SELECT id, name FROM groups WHERE name = @name;", tx).With("@name", group.Name)
                .ReadFirstOrDefaultAsync(ReadGroup);
            if (existing is not null)
            {
                ids[group.Id] = existing.Id;
                report.GroupsUnchanged++;
                continue;
            }
            ids[group.Id] = await IsFreeAsync(db, tx, "groups", group.Id)
                ? await db.Command("INSERT INTO groups (id, name) VALUES (@id, @name) RETURNING id;", tx)
                    .With("@id", group.Id).With("@name", group.Name).ReadInt64Async()
                : await db.Command("INSERT INTO groups (name) VALUES (@name) RETURNING id;", tx)
                    .With("@name", group.Name).ReadInt64Async();
            report.GroupsAdded++;
        }
        return ids;
    }

    /// <summary>Django's user id → Postern's.</summary>
    private async Task<Dictionary<long, long>> ImportUsersAsync(
        DbConnection db, DbTransaction tx, IReadOnlyList<DjangoUser> users, DjangoImportReport report)
    {
        var ids = new Dictionary<long, long>();
        var now = Micros(time.GetUtcNow());
        foreach (var user in users)
        {
            var existing = await db.Command($"SELECT {UserColumns} FROM users WHERE username = @username;", tx)
                .With("@username", user.Username).ReadFirstOrDefaultAsync(ReadUser);
            long id;
            if (existing is not null)
            {
                id = existing.Id;
                if (Same(existing, user))
                {
                    report.UsersUnchanged++;
                }
                else
                {
                    await Bind(db.Command("""
                        UPDATE users SET email = @email, password = @password, is_active = @active, is_staff = @staff,
                            is_superuser = @superuser, date_joined = @joined, last_login = @lastLogin, first_name = @first,
                            last_name = @last
                        WHERE id = @id;
                        """, tx), user).With("@id", id).ExecuteAsync();
                    report.UsersUpdated++;
                }
            }
            else
            {
                var keepId = await IsFreeAsync(db, tx, "users", user.Id);
                id = await Bind(db.Command($"""
                    INSERT INTO users ({(keepId ? "id, " : "")}username, email, password, is_active, is_staff, is_superuser,
                        date_joined, last_login, first_name, last_name)
                    VALUES ({(keepId ? "@id, " : "")}@username, @email, @password, @active, @staff, @superuser, @joined, @lastLogin,
                        @first, @last)
                    RETURNING id;
                    """, tx), user).With("@id", user.Id).With("@username", user.Username).ReadInt64Async();
                report.UsersAdded++;
            }
            ids[user.Id] = id;
            if (DjangoPasswordHash.IsUsable(user.Password) && !DjangoPasswordHash.TryParse(user.Password, out _))
                report.UsersWithForeignHashes++;
            // Django keeps no verification of its own: the addresses an operator imports count as verified, as staff's do.
            if (user.Email.Length > 0)
                await db.Command("""
                    INSERT INTO email_verifications (user_id, email, verified_at) VALUES (@id, @email, @now)
                    ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, verified_at = excluded.verified_at
                    WHERE email_verifications.email <> excluded.email;
                    """, tx).With("@id", id).With("@email", user.Email).With("@now", now).ExecuteAsync();
        }
        return ids;
    }

    private static bool Same(User existing, DjangoUser user) =>
        existing.Email == user.Email && existing.Password == user.Password && existing.IsActive == user.IsActive
        && existing.IsStaff == user.IsStaff && existing.IsSuperuser == user.IsSuperuser
        && Micros(existing.DateJoined) == Micros(user.DateJoined)
        && (existing.LastLogin is { } a ? Micros(a) : (long?)null) == (user.LastLogin is { } b ? Micros(b) : (long?)null)
        && existing.FirstName == user.FirstName && existing.LastName == user.LastName;

    private static DbCommand Bind(DbCommand command, DjangoUser user) => command
        .With("@email", user.Email).With("@password", user.Password).With("@active", user.IsActive).With("@staff", user.IsStaff)
        .With("@superuser", user.IsSuperuser).With("@joined", Micros(user.DateJoined))
        .With("@lastLogin", user.LastLogin is { } at ? Micros(at) : null).With("@first", user.FirstName).With("@last", user.LastName);

    private static async Task ImportMembershipsAsync(DbConnection db, DbTransaction tx, IReadOnlyList<(long UserId, long GroupId)> memberships,
        Dictionary<long, long> userIds, Dictionary<long, long> groupIds, DjangoImportReport report)
    {
        foreach (var (userId, groupId) in memberships)
        {
            var added = await db.Command(
                    "INSERT INTO user_groups (user_id, group_id) VALUES (@user, @group) ON CONFLICT (user_id, group_id) DO NOTHING;", tx)
                .With("@user", userIds[userId]).With("@group", groupIds[groupId]).ExecuteAsync();
            if (added > 0)
                report.MembershipsAdded++;
            else
                report.MembershipsUnchanged++;
        }
    }

    private async Task ImportSessionsAsync(DbConnection db, DbTransaction tx, DjangoContents source, Dictionary<long, long> userIds,
        IReadOnlyList<string> djangoKeys, DjangoImportReport report)
    {
        var now = time.GetUtcNow();
        var signer = new DjangoSigner(djangoKeys[0], [.. djangoKeys.Skip(1)]);
        var usersById = source.Users.ToDictionary(u => u.Id);
        foreach (var row in source.Sessions)
        {
            if (row.ExpireDate <= now)
            {
                report.SessionsExpired++;
                continue;
            }
            if (!SessionKey.IsWellFormed(row.Key) || DjangoSessionData.Decode(signer, row.Data, now) is not { } data)
            {
                report.SessionsUnreadable++;
                continue;
            }
            if (DjangoSessionData.SignedInUser(data) is not { } signedIn || !usersById.TryGetValue(signedIn.UserId, out var user))
            {
                report.SessionsAnonymous++;
                continue;
            }
            if (!DjangoSessionData.PasswordBackends.Contains(signedIn.Backend))
            {
                report.SessionsOtherBackend++;
                continue;
            }
            // Django would flush it: the password changed since the session opened (or the key it was hashed under is gone).
            if (!DjangoSessionData.HashMatches(signedIn.AuthHash, user.Password, djangoKeys))
            {
                report.SessionsStale++;
                continue;
            }
            var added = await db.Command("""
                    INSERT INTO sessions (session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent)
                    VALUES (@key, @user, @hash, @now, @now, @expires, NULL)
                    ON CONFLICT (session_key) DO NOTHING;
                    """, tx)
                .With("@key", row.Key).With("@user", userIds[user.Id]).With("@hash", authHash.For(user.Password))
                .With("@now", Micros(now)).With("@expires", Micros(row.ExpireDate)).ExecuteAsync();
            if (added > 0)
                report.SessionsAdded++;
            else
                report.SessionsUnchanged++;
        }
    }

    private static async Task<bool> IsFreeAsync(DbConnection db, DbTransaction tx, string table, long id) =>
        await db.Command($"SELECT COUNT(*) FROM {table} WHERE id = @id;", tx).With("@id", id).ReadInt64Async() == 0;
}
