namespace Postern.Server.Django;

/// <summary>
/// The migrations of Django's <c>auth</c>, <c>contenttypes</c> and <c>sessions</c> apps whose tables Postern reads, from
/// Django 3.2 to 5.2 (the same list in every release between: none of the three apps has migrated since 3.1). A database
/// missing one of them has tables of another shape; one with a migration not listed was made by a Django Postern does
/// not know. Either way Postern refuses it rather than guess.
/// </summary>
public static class DjangoMigrationState
{
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Understood = new Dictionary<string, IReadOnlyList<string>>
    {
        ["auth"] =
        [
            "0001_initial", "0002_alter_permission_name_max_length", "0003_alter_user_email_max_length",
            "0004_alter_user_username_opts", "0005_alter_user_last_login_null", "0006_require_contenttypes_0002",
            "0007_alter_validators_add_error_messages", "0008_alter_user_username_max_length",
            "0009_alter_user_last_name_max_length", "0010_alter_group_name_max_length", "0011_update_proxy_permissions",
            "0012_alter_user_first_name_max_length",
        ],
        ["contenttypes"] = ["0001_initial", "0002_remove_content_type_name"],
        ["sessions"] = ["0001_initial"],
    };

    /// <summary>Checks the applied migrations (app, name) of <c>django_migrations</c>.</summary>
    /// <exception cref="DjangoSchemaException">One missing or unknown, named with the app.</exception>
    public static void Check(IReadOnlyCollection<(string App, string Name)> applied, string where)
    {
        foreach (var (app, names) in Understood)
        {
            var done = applied.Where(m => m.App == app).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            if (names.FirstOrDefault(name => !done.Contains(name)) is { } missing)
                throw new DjangoSchemaException(
                    $"{where}: Django's migration {app}.{missing} has not been applied (run manage.py migrate in the Django project first).");
            if (done.FirstOrDefault(name => !names.Contains(name)) is { } unknown)
                throw new DjangoSchemaException(
                    $"{where}: Django's migration {app}.{unknown} is not one Postern knows (it reads Django 3.2 to 5.2's tables).");
        }
    }
}
