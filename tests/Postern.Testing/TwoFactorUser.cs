using System.Text.Json;
using OtpNet;
using Postern.Client;
using Postern.Protocol;

namespace Postern.Testing;

/// <summary>
/// A user of a test Postern with TOTP turned on through the API, as a person with an authenticator app would: the secret
/// the app holds, and codes from it at any time.
/// </summary>
public sealed record TwoFactorUser(string Username, string Password, byte[] Secret)
{
    /// <summary>The code the app shows at <paramref name="time"/>.</summary>
    public string CodeAt(DateTimeOffset time) => new Totp(Secret).ComputeTotp(time.UtcDateTime);

    /// <summary>
    /// Creates the user and turns TOTP on with the code of the step before now (the server accepts one step either side
    /// and each step once): the codes of now and of the next step are left for the test's logins.
    /// </summary>
    public static async Task<TwoFactorUser> CreateAsync(PosternTestServer server, string username, string password = "two-Factor-Passw0rd")
    {
        await server.CreateUserAsync(username, password);
        using var session = new PosternSession(server.BaseAddress, new PosternClientOptions { LoginMode = LoginMode.Seed });
        await session.LoginAsync(username, password);
        var setup = await session.PostAsync<JsonElement>(EndpointPaths.TotpSetup, new { });
        var user = new TwoFactorUser(username, password, Base32Encoding.ToBytes(setup.GetProperty("secret").GetString()!));
        await session.PostAsync<JsonElement>(EndpointPaths.TotpActivate, new { code = user.CodeAt(DateTimeOffset.UtcNow.AddSeconds(-30)) });
        return user;
    }
}
