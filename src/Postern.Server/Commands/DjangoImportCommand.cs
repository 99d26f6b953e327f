using Microsoft.Extensions.Options;
using Postern.Server.Django;
using Postern.Server.Hosting;
using Postern.Server.Sessions;
using Postern.Server.Storage;

namespace Postern.Server.Commands;

/// <summary><c>import-django --from DB [--sessions] [--django-secret-key KEY] [--dry-run]</c>: see <see cref="DjangoImport"/>.</summary>
public static class DjangoImportCommand
{
    public const string SecretKeyVariable = "DJANGO_SECRET_KEY";
    public const string FallbacksVariable = "DJANGO_SECRET_KEY_FALLBACKS";

    public static Task<int> RunAsync(HostSettings settings, string from, bool withSessions, string? djangoSecretKey, bool dryRun,
        CancellationToken ct) =>
        AdminCommands.WithPreparedStoreAsync(settings, async services =>
        {
            var keys = DjangoKeys(djangoSecretKey, services);
            if (withSessions && keys.Count == 0)
                return AdminCommands.Fail("--sessions needs the Django project's SECRET_KEY: --django-secret-key, "
                    + $"${SecretKeyVariable} or Postern:SecretKey.");
            DjangoContents source;
            DjangoDatabase django;
            try
            {
                django = DjangoDatabase.Open(from);
                source = await django.ReadAsync(withSessions, ct);
            }
            catch (DjangoSchemaException e)
            {
                return AdminCommands.Fail(e.Message);
            }
            Console.WriteLine($"Importing from Django's {django.Description}{(dryRun ? " (dry run)" : "")}:");
            var import = new DjangoImport(services.GetRequiredService<Database>(), services.GetRequiredService<SessionAuthHash>(),
                services.GetRequiredService<TimeProvider>());
            var report = await import.RunAsync(source, new DjangoImportOptions(withSessions, dryRun, keys), ct);
            foreach (var line in report.Lines(withSessions, dryRun))
                Console.WriteLine(line);
            return 0;
        }, ct);

    /// <summary>
    /// The Django project's key (given, from the environment, or Postern's own configured one) and its fallbacks (listed in
    /// the environment, or, with Postern's own key, Postern's configured ones).
    /// </summary>
    private static List<string> DjangoKeys(string? given, IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<SecretOptions>>().Value;
        var named = NonEmpty(given) ?? NonEmpty(Environment.GetEnvironmentVariable(SecretKeyVariable));
        if ((named ?? NonEmpty(configured.SecretKey)) is not { } key)
            return [];
        var fallbacks = NonEmpty(Environment.GetEnvironmentVariable(FallbacksVariable))?
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            ?? (named is null ? [.. configured.SecretKeyFallbacks] : []);
        return [key, .. fallbacks];
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
