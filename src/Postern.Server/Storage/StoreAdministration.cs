namespace Postern.Server.Storage;

/// <summary>
/// The schema (<see cref="Database.MigrateAsync(CancellationToken)"/>), the readiness probe's ping and the <c>settings</c> table.
/// </summary>
public sealed class StoreAdministration(Database database) : IStoreAdministration
{
    public Task MigrateAsync(CancellationToken ct = default) => database.MigrateAsync(ct);

    public Task PingAsync(CancellationToken ct = default) => database.PingAsync(ct);

    /// <summary>Not announced: no cached read depends on settings (the secret key is read once, at start).</summary>
    public Task<string> GetOrCreateSettingAsync(string name, Func<string> create, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(async db =>
        {
            await db.Command("INSERT INTO settings (name, value) VALUES (@name, @value) ON CONFLICT DO NOTHING;")
                .With("@name", name).With("@value", create()).ExecuteAsync();
            return await db.Command("SELECT value FROM settings WHERE name = @name;").With("@name", name).ReadStringAsync() ?? "";
        }, ct);
}
