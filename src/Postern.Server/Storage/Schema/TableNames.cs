using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Postern.Server.Storage.Schema;

/// <summary>
/// Which tables Postern's statements mean. Every statement of the stores names the tables of Postern's own schema
/// (<c>users</c>, <c>sessions</c>, <c>api_tokens</c>…). Beside a Django project (<see cref="StorageSchema.Django"/>) the users,
/// groups and memberships are Django's own tables and Postern's others carry a <c>postern_</c> prefix, so that they can share
/// its database without a name of Django's or of another app being taken: each statement's text is translated once, as its
/// command is made (<see cref="StoreCommands.Command"/>), and kept, so every store runs unchanged in both modes and stays
/// written once.
/// </summary>
/// <remarks>
/// Only whole words outside quoted literals are translated, and only the table names below: an index name such as
/// <c>sessions_user</c> or a column such as <c>user_id</c> is another word.
/// </remarks>
public sealed partial class TableNames
{
    /// <summary>Postern's own tables, as its statements name them (<see cref="Migrations"/>).</summary>
    public static readonly IReadOnlyList<string> Own =
    [
        "users", "groups", "user_groups", "sessions", "settings", "schema_version", "email_verifications", "email_outbox",
        "login_throttles", "mfa_totp", "mfa_recovery_codes", "api_tokens", "audit_events", "change_counter",
    ];

    /// <summary>Statements this many distinct texts apart are translated without being kept (they should never be that many).</summary>
    private const int MaxKept = 4096;

    private static readonly AsyncLocal<TableNames?> InEffect = new();

    private readonly IReadOnlyDictionary<string, string> _names;
    private readonly ConcurrentDictionary<string, string> _translated = new(StringComparer.Ordinal);

    private TableNames(IReadOnlyDictionary<string, string> names) => _names = names;

    /// <summary>
    /// Beside Django: users, groups and memberships in Django's tables (the user table named by
    /// <paramref name="userTable"/>, its memberships in <c>{userTable}_groups</c> as Django names them), the rest prefixed.
    /// </summary>
    public static TableNames BesideDjango(string userTable)
    {
        var names = Own.ToDictionary(name => name, name => "postern_" + name, StringComparer.Ordinal);
        names["users"] = userTable;
        names["groups"] = "auth_group";
        names["user_groups"] = userTable + "_groups";
        return new TableNames(names);
    }

    /// <summary>The table Postern's <paramref name="own"/> name stands for.</summary>
    public string this[string own] => _names[own];

    /// <summary>The translation in effect for statements made in this flow of execution (null: Postern's own names).</summary>
    internal static TableNames? Current => InEffect.Value;

    /// <summary>
    /// Makes this translation the one in effect for the statements the calling async method makes from now on; the
    /// caller's own caller is untouched (an async method's changes to an AsyncLocal end with it).
    /// </summary>
    internal void TakeEffect() => InEffect.Value = this;

    /// <summary><paramref name="sql"/> with Postern's table names replaced by the ones they stand for.</summary>
    public string Translate(string sql)
    {
        if (_translated.TryGetValue(sql, out var translated))
            return translated;
        translated = WordOrLiteral().Replace(sql, match =>
            match.Value[0] != '\'' && _names.TryGetValue(match.Value, out var name) ? name : match.Value);
        if (_translated.Count < MaxKept)
            _translated.TryAdd(sql, translated);
        return translated;
    }

    /// <summary>A quoted literal (kept as it is) or a word.</summary>
    [GeneratedRegex(@"'(?:[^']|'')*'|\b[A-Za-z_][A-Za-z0-9_]*\b", RegexOptions.CultureInvariant)]
    private static partial Regex WordOrLiteral();
}

/// <summary>Whose tables hold the users and sessions (<c>Postern:Storage:Schema</c>).</summary>
public enum StorageSchema
{
    /// <summary>Postern's own schema, migrated by Postern (the default).</summary>
    Postern,

    /// <summary>
    /// A Django project's database: its <c>auth_user</c>, <c>auth_group</c>, <c>auth_user_groups</c> and <c>django_session</c>,
    /// shared with the Django project as it runs; Postern's other tables beside them, prefixed <c>postern_</c>.
    /// </summary>
    Django,
}
