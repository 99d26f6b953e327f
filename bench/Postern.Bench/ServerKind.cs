namespace Postern.Bench;

/// <summary>The servers of the benchmark, in the order of the results table.</summary>
public enum ServerKind
{
    Postern,
    CookieAuth,
    BareKestrel,
    Django,
}

public static class ServerKinds
{
    public static readonly IReadOnlyList<ServerKind> All = Enum.GetValues<ServerKind>();

    /// <summary>The name on the command line (<c>--servers postern,cookie,bare,django</c>).</summary>
    public static string Key(this ServerKind kind) => kind switch
    {
        ServerKind.Postern => "postern",
        ServerKind.CookieAuth => "cookie",
        ServerKind.BareKestrel => "bare",
        ServerKind.Django => "django",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string Title(this ServerKind kind) => kind switch
    {
        ServerKind.Postern => "Postern",
        ServerKind.CookieAuth => "ASP.NET cookie auth",
        ServerKind.BareKestrel => "bare Kestrel",
        ServerKind.Django => "Django 5.2 (gunicorn, 2 workers)",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Whether it has sessions to sign in (bare Kestrel has no authentication at all).</summary>
    public static bool SignsIn(this ServerKind kind) => kind != ServerKind.BareKestrel;

    public static ServerKind? Parse(string key) => All.Cast<ServerKind?>().FirstOrDefault(k => k!.Value.Key() == key);
}
