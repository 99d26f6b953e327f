using System.Data;
using System.Data.Common;
using System.Globalization;

namespace Postern.Server.Storage;

/// <summary>
/// The plain ADO.NET that every statement of the SQL stores goes through: a command with its text, transaction
/// and typed parameters (<c>db.Command(sql, tx).With("@id", id)</c>), then run one of a few ways, each of which
/// disposes the command. Rows become records through the positional readers of <see cref="StoredRows"/>.
/// </summary>
/// <remarks>
/// No reflection and no expression trees: Dapper's, which this replaces, loaded System.Linq.Expressions and
/// System.Private.Xml and emitted code per row type, several MB resident for a dozen statements.
/// </remarks>
internal static class StoreCommands
{
    public static DbCommand Command(this DbConnection db, string sql, DbTransaction? tx = null)
    {
        var command = db.CreateCommand();
        command.CommandText = Schema.TableNames.Current is { } tables ? tables.Translate(sql) : sql;
        // Without tx, the provider's own choice stands: SQLite's puts a command on the connection's open transaction, which
        // is the group commit's while a queued write runs (Sqlite/SqliteGroupCommit).
        if (tx is not null)
            command.Transaction = tx is Sqlite.SqliteSavepoint savepoint ? savepoint.Outer : tx;
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, long value) => command.Add(name, value, DbType.Int64);

    public static DbCommand With(this DbCommand command, string name, bool value) => command.Add(name, value, DbType.Boolean);

    /// <summary>A null integer goes as a NULL typed bigint (for <c>COALESCE(@x, column)</c>).</summary>
    public static DbCommand With(this DbCommand command, string name, long? value) => command.Add(name, value, DbType.Int64);

    /// <summary>A null boolean goes as a NULL typed boolean (for <c>COALESCE(@x, column)</c>).</summary>
    public static DbCommand With(this DbCommand command, string name, bool? value) => command.Add(name, value, DbType.Boolean);

    /// <summary>A null string goes as a NULL typed text, so PostgreSQL need not guess what it is.</summary>
    public static DbCommand With(this DbCommand command, string name, string? value) => command.Add(name, value, DbType.String);

    /// <summary>An array (PostgreSQL's <c>= ANY(@ids)</c>); the provider maps the element type.</summary>
    public static DbCommand With(this DbCommand command, string name, long[] values) => command.Add(name, values, type: null);

    /// <summary>
    /// A time in a column of Django's (<c>auth_user.date_joined</c>, <c>django_session.expire_date</c>…) as Django writes it:
    /// a UTC timestamp for PostgreSQL's timestamptz, Django's text for SQLite (<see cref="StoredRows.DjangoText"/>).
    /// </summary>
    public static DbCommand WithDjangoTime(this DbCommand command, string name, DateTimeOffset at, bool postgres) =>
        postgres ? command.Add(name, at.UtcDateTime, DbType.DateTime) : command.Add(name, StoredRows.DjangoText(at), DbType.String);

    /// <summary>A user's date_joined or last_login: microseconds in Postern's schema, Django's datetime beside Django.</summary>
    public static DbCommand WithUserTime(this DbCommand command, string name, DateTimeOffset at, Database database) =>
        database.Schema == Schema.StorageSchema.Postern
            ? command.With(name, StoredRows.Micros(at))
            : command.WithDjangoTime(name, at, database.IsPostgres);

    private static DbCommand Add(this DbCommand command, string name, object? value, DbType? type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (type is { } dbType)
            parameter.DbType = dbType;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>Runs a statement; returns the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(this DbCommand command, CancellationToken ct = default)
    {
        await using (command)
            return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The first column of the first row as a long, whichever integer width the database returns (PostgreSQL's
    /// <c>MAX</c> of an integer column is an int); 0 for no row or NULL, as <c>MAX</c> over no rows is.
    /// </summary>
    public static async Task<long> ReadInt64Async(this DbCommand command, CancellationToken ct = default)
    {
        await using (command)
            return await command.ExecuteScalarAsync(ct) is { } value and not DBNull
                ? Convert.ToInt64(value, CultureInfo.InvariantCulture)
                : 0;
    }

    /// <summary>The first column of the first row as a string; null for no row or NULL.</summary>
    public static async Task<string?> ReadStringAsync(this DbCommand command, CancellationToken ct = default)
    {
        await using (command)
            return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>The first row as <paramref name="read"/> makes it; null if there is none.</summary>
    public static async Task<T?> ReadFirstOrDefaultAsync<T>(
        this DbCommand command, Func<DbDataReader, T> read, CancellationToken ct = default)
        where T : class
    {
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow, ct);
            return await reader.ReadAsync(ct) ? read(reader) : null;
        }
    }

    /// <summary>Every row, each as <paramref name="read"/> makes it.</summary>
    public static async Task<List<T>> ReadAllAsync<T>(this DbCommand command, Func<DbDataReader, T> read, CancellationToken ct = default)
    {
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            var rows = new List<T>();
            while (await reader.ReadAsync(ct))
                rows.Add(read(reader));
            return rows;
        }
    }
}
