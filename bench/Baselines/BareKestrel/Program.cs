// The ceiling: the least ASP.NET Core can do to answer what Postern answers (no sessions, no
// authentication, no database), so "Postern / bare Kestrel" is the share of the ceiling Postern reaches.
using Postern.Bench.Seed;
using Postern.Protocol;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
var app = builder.Build();

app.MapUserDetail();
app.MapUserList();

// A fresh secret, masked, in the cookie and the body: the work Postern's /auth/csrf does for a visitor without a cookie.
app.MapGet("/auth/csrf", (HttpResponse response) =>
{
    var secret = CsrfToken.NewSecret();
    var token = CsrfToken.Mask(secret);
    response.Cookies.Append(CookieNames.Csrf, secret,
        new CookieOptions { MaxAge = TimeSpan.FromDays(364), SameSite = SameSiteMode.Lax, Path = "/" });
    response.Headers[HeaderNames.CsrfToken] = token;
    return Results.Ok(new CsrfTokenBody(token));
});

app.Run();
