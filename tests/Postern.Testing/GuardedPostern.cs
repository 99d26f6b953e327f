using System.Globalization;

namespace Postern.Testing;

/// <summary>
/// A Postern that guards its logins as production does (the test server's default turns throttling off), quickly enough
/// for tests: three failures lock an account, and the reauthentication window is three seconds.
/// </summary>
public static class GuardedPostern
{
    public const int AccountFailures = 3;
    public const int ReauthSeconds = 3;

    public static Task<PosternTestServer> StartAsync() => PosternTestServer.StartAsync(new Dictionary<string, string?>
    {
        ["Postern:Throttling:Enabled"] = "true",
        ["Postern:Throttling:AccountFailures"] = AccountFailures.ToString(CultureInfo.InvariantCulture),
        ["Postern:Accounts:ReauthSeconds"] = ReauthSeconds.ToString(CultureInfo.InvariantCulture),
    });
}
