using Postern.Protocol;

namespace Postern.Client;

/// <summary>How to log in.</summary>
public enum LoginMode
{
    /// <summary>Try the JSON endpoint (<see cref="PosternClientOptions.LoginPath"/>); if the backend has none, fall back to the form.</summary>
    Auto,

    /// <summary>The seed's JSON login: <c>POST /auth/login</c> with <c>X-CSRFToken</c>.</summary>
    Json,

    /// <summary>Django's stock <c>LoginView</c> (<c>/accounts/login/</c>, DRF's <c>/api-auth/login/</c>): GET the form, POST it with <c>csrfmiddlewaretoken</c>, follow the 302.</summary>
    DjangoForm,
}

/// <summary>What to do with a link to another origin.</summary>
public enum CrossOriginPolicy
{
    /// <summary>Follow it, but without cookies, CSRF token or Referer (they belong to the backend alone).</summary>
    SendWithoutCredentials,

    /// <summary>Refuse with <see cref="CrossOriginException"/>.</summary>
    Refuse,
}

/// <summary>Asked for credentials when a session has expired, so the client can log in again once.</summary>
public delegate ValueTask<(string Username, string Password)?> CredentialProvider(Uri baseAddress, CancellationToken ct);

public sealed class PosternClientOptions
{
    /// <summary>The backend, e.g. <c>http://backend/</c>. Relative paths resolve against it.</summary>
    public Uri? BaseAddress { get; set; }

    public string CsrfPath { get; set; } = EndpointPaths.Csrf;
    public string LoginPath { get; set; } = EndpointPaths.Login;
    public string LogoutPath { get; set; } = EndpointPaths.Logout;
    public string WhoAmIPath { get; set; } = EndpointPaths.User;

    /// <summary>The form login page for <see cref="LoginMode.DjangoForm"/>.</summary>
    public string FormLoginPath { get; set; } = "/api-auth/login/";

    public LoginMode LoginMode { get; set; } = LoginMode.Auto;
    public CrossOriginPolicy CrossOrigin { get; set; } = CrossOriginPolicy.SendWithoutCredentials;

    /// <summary>When set, an expired session is logged in again once and the request retried.</summary>
    public CredentialProvider? Credentials { get; set; }

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(100);
}

internal static class PosternClientOptionsCopy
{
    public static PosternClientOptions MemberwiseCloneOptions(this PosternClientOptions options) => new()
    {
        BaseAddress = options.BaseAddress,
        CsrfPath = options.CsrfPath,
        LoginPath = options.LoginPath,
        LogoutPath = options.LogoutPath,
        WhoAmIPath = options.WhoAmIPath,
        FormLoginPath = options.FormLoginPath,
        LoginMode = options.LoginMode,
        CrossOrigin = options.CrossOrigin,
        Credentials = options.Credentials,
        Timeout = options.Timeout,
    };
}
