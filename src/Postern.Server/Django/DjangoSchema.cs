using System.Data.Common;
using Postern.Server.Storage;
using Postern.Server.Storage.Schema;

namespace Postern.Server.Django;

/// <summary>
/// Postern beside a Django project, on its database (<c>--schema django</c>): what it checks before it starts, and the tables
/// of its own it adds. Django's tables are never created, altered or migrated: Postern reads and writes their rows only.
/// </summary>
public static class DjangoSchema
{
    /// <summary>
    /// Postern's own tables beside Django's, prefixed <c>postern_</c> (written with Postern's names: see <see cref="TableNames"/>).
    /// Append only, as <see cref="Storage.Schema.Migrations.All"/>; a migration appended there that applies here is appended here
    /// too. Steps 3 to 9 are Postern's own, reused: they create tables that only refer to the user table.
    /// </summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        // What Postern knows of a session besides Django's row (DjangoSessionStore); the same columns as its own sessions table,
        // so that every statement on it is written once. Its auth_hash is the one the Django row was last signed with.
        new("sessions beside Django's, settings", sql => $"""
            CREATE TABLE sessions (
                session_key {sql.Text} PRIMARY KEY,
                user_id {sql.BigInt} NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                auth_hash {sql.Text} NOT NULL,
                created_at {sql.BigInt} NOT NULL,
                last_seen_at {sql.BigInt} NOT NULL,
                expires_at {sql.BigInt} NOT NULL,
                user_agent {sql.Text} NULL
            );
            CREATE INDEX postern_sessions_user ON sessions(user_id);
            CREATE TABLE settings (
                name {sql.Text} PRIMARY KEY,
                value {sql.Text} NOT NULL
            );
            """),
        // Django keeps no verification of addresses (allauth's EmailAddress is another app's): none is verified at first.
        new("e-mail verifications", sql => $"""
            CREATE TABLE email_verifications (
                user_id {sql.BigInt} PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                email {sql.Text} NOT NULL,
                verified_at {sql.BigInt} NOT NULL
            );
            """),
        .. Storage.Schema.Migrations.All.Skip(2).Take(7),
        // Django's logins and logouts move the read cache's counter too (a new row no cache can hold does not): SQLite's
        // data_version sees them by itself.
        new("change counter trigger on django_session (PostgreSQL)", sql => sql.OnPostgresOnly("""
            CREATE TRIGGER postern_sessions_changed AFTER DELETE OR TRUNCATE OR UPDATE OF session_key, session_data ON django_session
                FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
            """)),
        // DRF's tokens (ApiTokenStore.FindDjangoTokenAsync), where the project has its authtoken app: a token deleted or
        // regenerated on Django stops working here at once. A project that adds the app later gets it at Postern's next
        // migration of this kind; until then its token changes are seen within Postern:Cache:MaxAgeSeconds.
        new("change counter trigger on authtoken_token, where it exists (PostgreSQL)", sql => sql.OnPostgresOnly("""
            DO $$ BEGIN
                IF to_regclass('authtoken_token') IS NOT NULL THEN
                    CREATE TRIGGER postern_django_tokens_changed AFTER UPDATE OR DELETE OR TRUNCATE ON authtoken_token
                        FOR EACH STATEMENT EXECUTE FUNCTION postern_count_change();
                END IF;
            END $$;
            """)),
    ];

    /// <summary>
    /// Checks that the database is a Django project's that Postern understands: the migrations of Django's <c>auth</c>,
    /// <c>contenttypes</c> and <c>sessions</c> apps of Django 3.2 to 5.2 applied (<see cref="DjangoMigrationState"/>), a user
    /// table with <c>AbstractUser</c>'s columns, and its memberships table.
    /// </summary>
    /// <exception cref="DjangoSchemaException">Not so, in one line that says what to do.</exception>
    public static async Task CheckAsync(Database database, CancellationToken ct)
    {
        var userTable = database.Tables!["users"];
        var applied = await ReadOrRefuseAsync(database, "SELECT app, name FROM django_migrations;",
            row => (row.GetString(0), row.GetString(1)),
            e => $"{database.Description} is not a Django project's database (no django_migrations: {Reason(e)}); "
                + "run manage.py migrate there first, or leave out --schema django", ct);
        DjangoMigrationState.Check(applied, database.Description);
        await ReadOrRefuseAsync(database, $"SELECT {StoredRows.UserColumns} FROM {userTable} WHERE 1 = 0;", StoredRows.ReadUser,
            e => $"The user table {userTable} of {database.Description} does not have the columns of Django's AbstractUser "
                + $"({Reason(e)}); Postern:Django:UserTable names a custom user model's table when it has them", ct);
        await ReadOrRefuseAsync(database, $"SELECT user_id, group_id FROM {userTable}_groups WHERE 1 = 0;", StoredRows.ReadId,
            e => $"The groups of {userTable} are not in {userTable}_groups (user_id, group_id) as Django keeps them ({Reason(e)})", ct);
        await ReadOrRefuseAsync(database, "SELECT session_key, session_data, expire_date FROM django_session WHERE 1 = 0;",
            StoredRows.ReadId, e => $"{database.Description} has no django_session table of Django's ({Reason(e)})", ct);
    }

    private static async Task<List<T>> ReadOrRefuseAsync<T>(Database database, string sql, Func<DbDataReader, T> read,
        Func<DbException, string> refusal, CancellationToken ct)
    {
        try
        {
            // Django's table names, not Postern's: nothing here is translated.
            return await database.ReadAsync(db => db.Command(sql).ReadAllAsync(read), ct);
        }
        // A table or column that is not there, which Database reports as an outage (a deleted SQLite file, or a PostgreSQL
        // schema dropped under a running server, reads so): said as what it is here. A real outage stays one for the caller.
        catch (DbException e)
        {
            throw new DjangoSchemaException(refusal(e) + ".");
        }
        catch (StoreUnavailableException e) when (e.InnerException is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 1 }
            or Npgsql.PostgresException { SqlState: "42P01" or "42703" })
        {
            throw new DjangoSchemaException(refusal((DbException)e.InnerException) + ".");
        }
    }

    private static string Reason(DbException e) => e.Message.Split('\n')[0].TrimEnd('.');
}
