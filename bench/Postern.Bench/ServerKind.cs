namespace Postern.Bench;

/// <summary>The servers of the benchmark, in the order of the results table.</summary>
public enum ServerKind
{
    Postern,
    CookieAuth,
    BareKestrel,
    Django,

    /// <summary>--scale: two Postern instances behind nginx on one PostgreSQL database and Redis, as the README deploys it.</summary>
    PosternScaled,

    /// <summary>--scale: the same without Redis: the read cache kept exact by the change counter in PostgreSQL.</summary>
    PosternScaledPostgres,

    /// <summary>--scale: Django under gunicorn (a worker per core) behind nginx, on PostgreSQL, cached_db sessions on Redis.</summary>
    DjangoScaled,
}

public static class ServerKinds
{
    public static readonly IReadOnlyList<ServerKind> All = Enum.GetValues<ServerKind>();

    /// <summary>The servers of the standard run, each one process on loopback.</summary>
    public static readonly IReadOnlyList<ServerKind> Standard =
        [ServerKind.Postern, ServerKind.CookieAuth, ServerKind.BareKestrel, ServerKind.Django];

    /// <summary>The deployments of <c>--scale</c>, each behind nginx of its own on the same PostgreSQL cluster and Redis.</summary>
    public static readonly IReadOnlyList<ServerKind> Scale =
        [ServerKind.PosternScaled, ServerKind.PosternScaledPostgres, ServerKind.DjangoScaled];

    /// <summary>gunicorn's workers in the scaled Django deployment: one per core, as gunicorn's docs start from.</summary>
    public static int DjangoScaledWorkers => Environment.ProcessorCount;

    /// <summary>The name on the command line (<c>--servers postern,cookie,bare,django</c>).</summary>
    public static string Key(this ServerKind kind) => kind switch
    {
        ServerKind.Postern => "postern",
        ServerKind.CookieAuth => "cookie",
        ServerKind.BareKestrel => "bare",
        ServerKind.Django => "django",
        ServerKind.PosternScaled => "postern-redis",
        ServerKind.PosternScaledPostgres => "postern-pg",
        ServerKind.DjangoScaled => "django-scaled",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string Title(this ServerKind kind) => kind switch
    {
        ServerKind.Postern => "Postern",
        ServerKind.CookieAuth => "ASP.NET cookie auth",
        ServerKind.BareKestrel => "bare Kestrel",
        ServerKind.Django => "Django 5.2 (gunicorn, 2 workers)",
        ServerKind.PosternScaled => "Postern ×2, PostgreSQL + Redis",
        ServerKind.PosternScaledPostgres => "Postern ×2, PostgreSQL alone",
        ServerKind.DjangoScaled => $"Django 5.2 (gunicorn, {DjangoScaledWorkers} workers), PostgreSQL + Redis cached_db",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Whether it has sessions to sign in (bare Kestrel has no authentication at all).</summary>
    public static bool SignsIn(this ServerKind kind) => kind != ServerKind.BareKestrel;

    /// <summary>A Django deployment: its answers are Django's own, never compared byte for byte with Postern's.</summary>
    public static bool IsDjango(this ServerKind kind) => kind is ServerKind.Django or ServerKind.DjangoScaled;

    /// <summary>Whose requests/s the report divides by the others': Postern's, or in --scale Postern's deployment with Redis.</summary>
    public static ServerKind Ours(bool scale) => scale ? ServerKind.PosternScaled : ServerKind.Postern;

    /// <summary>The columns of the ratio table: what <see cref="Ours"/> is divided by.</summary>
    public static IReadOnlyList<ServerKind> Baselines(bool scale) => scale
        ? [ServerKind.DjangoScaled, ServerKind.PosternScaledPostgres]
        : [ServerKind.CookieAuth, ServerKind.BareKestrel, ServerKind.Django];

    public static ServerKind? Parse(string key) => All.Cast<ServerKind?>().FirstOrDefault(k => k!.Value.Key() == key);
}
