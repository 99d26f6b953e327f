using System.Data.Common;
using System.Text;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>One security event as recorded: whom it concerns, who did it when that was someone else, and from where.</summary>
/// <param name="UserId">The user it concerns; null for a login attempt on a username nobody has.</param>
/// <param name="Username">The user's name then, or the username tried.</param>
/// <param name="Actor">The signed-in user who did it to someone else (staff); empty when it was the user, or nobody.</param>
public sealed record AuditEvent(
    long Id, DateTimeOffset At, string Kind, long? UserId, string Username, string Actor, string Address, string UserAgent, string Detail);

/// <summary>Which events a list asks for (the API's filters); every part optional, together they all apply.</summary>
public sealed record AuditEventQuery(long? UserId = null, string? Kind = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null);

/// <summary>
/// The audit trail's rows, in <c>audit_events</c>. Written without announcing (no cache holds events) and read past the
/// cache: the trail is appended to and read rarely, always fresh.
/// </summary>
public sealed class AuditStore(Database database)
{
    private const string Columns = "id, at, kind, user_id, username, actor, address, user_agent, detail";

    private static AuditEvent Read(DbDataReader row) => new(
        row.GetInt64(0),
        FromMicros(row.GetInt64(1)),
        row.GetString(2),
        row.IsDBNull(3) ? null : row.GetInt64(3),
        row.GetString(4),
        row.GetString(5),
        row.GetString(6),
        row.GetString(7),
        row.GetString(8));

    public Task AppendAsync(AuditEvent entry, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(db => db.Command(
                """
                INSERT INTO audit_events (at, kind, user_id, username, actor, address, user_agent, detail)
                VALUES (@at, @kind, @userId, @username, @actor, @address, @userAgent, @detail);
                """)
            .With("@at", Micros(entry.At)).With("@kind", entry.Kind).With("@userId", entry.UserId).With("@username", entry.Username)
            .With("@actor", entry.Actor).With("@address", entry.Address).With("@userAgent", entry.UserAgent).With("@detail", entry.Detail)
            .ExecuteAsync(), ct);

    public Task<long> CountAsync(AuditEventQuery query, CancellationToken ct = default) =>
        database.ReadAsync(db => Filtered(db, "SELECT COUNT(*) FROM audit_events", query, "").ReadInt64Async(), ct);

    /// <summary>A page of the events <paramref name="query"/> asks for, newest first.</summary>
    public Task<IReadOnlyList<AuditEvent>> ListAsync(AuditEventQuery query, int offset, int limit, CancellationToken ct = default) =>
        database.ReadAsync(async db => (IReadOnlyList<AuditEvent>)await Filtered(db, $"SELECT {Columns} FROM audit_events", query,
                " ORDER BY id DESC LIMIT @limit OFFSET @offset")
            .With("@limit", limit).With("@offset", offset).ReadAllAsync(Read), ct);

    public Task<AuditEvent?> FindAsync(long id, CancellationToken ct = default) =>
        database.ReadAsync(db => db.Command($"SELECT {Columns} FROM audit_events WHERE id = @id;").With("@id", id)
            .ReadFirstOrDefaultAsync(Read), ct);

    /// <summary>Deletes the events older than <paramref name="before"/> (the retention period); how many went.</summary>
    public Task<int> DeleteOlderThanAsync(DateTimeOffset before, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(db =>
            db.Command("DELETE FROM audit_events WHERE at < @before;").With("@before", Micros(before)).ExecuteAsync(), ct);

    // Only the conditions asked for are written, so that each query can use the index on its column.
    private static DbCommand Filtered(DbConnection db, string select, AuditEventQuery query, string tail)
    {
        var conditions = new List<string>();
        if (query.UserId is not null)
            conditions.Add("user_id = @userId");
        if (query.Kind is not null)
            conditions.Add("kind = @kind");
        if (query.Since is not null)
            conditions.Add("at >= @since");
        if (query.Until is not null)
            conditions.Add("at <= @until");
        var sql = new StringBuilder(select);
        if (conditions.Count > 0)
            sql.Append(" WHERE ").AppendJoin(" AND ", conditions);
        var command = db.Command(sql.Append(tail).Append(';').ToString());
        if (query.UserId is { } userId)
            command.With("@userId", userId);
        if (query.Kind is { } kind)
            command.With("@kind", kind);
        if (query.Since is { } since)
            command.With("@since", Micros(since));
        if (query.Until is { } until)
            command.With("@until", Micros(until));
        return command;
    }
}
