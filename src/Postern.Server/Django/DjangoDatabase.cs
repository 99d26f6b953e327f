using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Postern.Server.Storage;
using Postern.Server.Storage.Postgres;

namespace Postern.Server.Django;

/// <summary>A row of Django's <c>auth_user</c>.</summary>
public sealed record DjangoUser(
    long Id, string Username, string Email, string Password, bool IsActive, bool IsStaff, bool IsSuperuser,
    DateTimeOffset DateJoined, DateTimeOffset? LastLogin, string FirstName, string LastName);

/// <summary>A row of <c>django_session</c>: the key, the signed data and when it expires.</summary>
public sealed record DjangoSessionRow(string Key, string Data, DateTimeOffset ExpireDate);

/// <summary>
/// A Django project's own database (a SQLite file or a PostgreSQL URL), read as Django wrote it: <c>auth_user</c>,
/// <c>auth_group</c>, <c>auth_user_groups</c>, <c>django_session</c> and <c>django_migrations</c>. Opened read-only where
/// the database allows it (SQLite): Postern never changes a Django table's shape, and reading changes nothing.
/// </summary>
public sealed class DjangoDatabase
{
    private readonly Func<CancellationToken, Task<DbConnection>> _open;

    private DjangoDatabase(string description, Func<CancellationToken, Task<DbConnection>> open)
    {
        Description = description;
        _open = open;
    }

    /// <summary>Where it is, for messages (a PostgreSQL URL without its password).</summary>
    public string Description { get; }

    /// <exception cref="StoreUnavailableException">A SQLite file that does not exist, or a malformed PostgreSQL URL.</exception>
    public static DjangoDatabase Open(string database)
    {
        if (PostgresDatabaseUrl.IsPostgres(database))
        {
            var connectionString = PostgresDatabaseUrl.ToConnectionString(database);
            return new DjangoDatabase("PostgreSQL " + PostgresDatabaseUrl.Redact(database), async ct =>
            {
                var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                return connection;
            });
        }
        var path = Path.GetFullPath(database);
        if (!File.Exists(path))
            throw new DjangoSchemaException($"There is no Django database at {path}.");
        var sqlite = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        return new DjangoDatabase("SQLite " + path, async ct =>
        {
            var connection = new SqliteConnection(sqlite);
            await connection.OpenAsync(ct);
            return connection;
        });
    }

    /// <summary>Everything an import needs, read in one go on one connection.</summary>
    /// <exception cref="DjangoSchemaException">Not a Django database, or at a migration state Postern does not know.</exception>
    public async Task<DjangoContents> ReadAsync(bool withSessions, CancellationToken ct)
    {
        try
        {
            await using var db = await _open(ct);
            var applied = await ReadAllAsync(db, "SELECT app, name FROM django_migrations;", row => (row.GetString(0), row.GetString(1)), ct);
            DjangoMigrationState.Check(applied, Description);
            var users = await ReadAllAsync(db, """
                SELECT id, username, email, password, is_active, is_staff, is_superuser, date_joined, last_login, first_name, last_name
                FROM auth_user ORDER BY id;
                """, row => new DjangoUser(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.GetBoolean(4),
                row.GetBoolean(5), row.GetBoolean(6), StoredRows.ReadDjangoTime(row.GetValue(7)), row.IsDBNull(8) ? null : StoredRows.ReadDjangoTime(row.GetValue(8)),
                row.GetString(9), row.GetString(10)), ct);
            var groups = await ReadAllAsync(db, "SELECT id, name FROM auth_group ORDER BY id;",
                row => new Group(row.GetInt64(0), row.GetString(1)), ct);
            var memberships = await ReadAllAsync(db, "SELECT user_id, group_id FROM auth_user_groups ORDER BY user_id, group_id;",
                row => (UserId: row.GetInt64(0), GroupId: row.GetInt64(1)), ct);
            var sessions = withSessions
                ? await ReadAllAsync(db, "SELECT session_key, session_data, expire_date FROM django_session ORDER BY session_key;",
                    row => new DjangoSessionRow(row.GetString(0), row.GetString(1), StoredRows.ReadDjangoTime(row.GetValue(2))), ct)
                : [];
            return new DjangoContents(users, groups, memberships, sessions);
        }
        catch (DbException e) when (e is SqliteException { SqliteErrorCode: 1 } or PostgresException { SqlState: "42P01" or "42703" })
        {
            // No such table or column: not a Django database (or not one of Django's releases this knows).
            throw new DjangoSchemaException($"{Description} is not a Django database Postern can read: {e.Message.TrimEnd('.')}.");
        }
        catch (Exception e) when (e is DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StoreUnavailableException($"Cannot read the Django database at {Description}: {e.Message}", e);
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(DbConnection db, string sql, Func<DbDataReader, T> read, CancellationToken ct)
    {
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
            rows.Add(read(reader));
        return rows;
    }
}

/// <summary>What was read from a Django database.</summary>
public sealed record DjangoContents(
    IReadOnlyList<DjangoUser> Users,
    IReadOnlyList<Group> Groups,
    IReadOnlyList<(long UserId, long GroupId)> Memberships,
    IReadOnlyList<DjangoSessionRow> Sessions);

/// <summary>A database that is not Django's, or whose state Postern does not understand: one line for the operator.</summary>
public sealed class DjangoSchemaException(string message) : Exception(message);
