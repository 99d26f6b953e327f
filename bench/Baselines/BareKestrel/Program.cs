// The ceiling: the least ASP.NET Core can do to answer what Postern answers (no sessions, no
// authentication, no database), so "Postern / bare Kestrel" is the share of the ceiling Postern reaches.
using System.Globalization;
using Postern.Bench.Seed;
using Postern.Protocol;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
var app = builder.Build();

static ApiLinks Links(HttpRequest request) => new($"{request.Scheme}://{request.Host}");

app.MapGet("/api/users/{id:int}/", (int id, HttpRequest request) =>
    SeedData.FindUser(id) is { } user ? Results.Ok(Links(request).Represent(user)) : Results.NotFound(new DetailBody("No User matches the given query.")));

app.MapGet("/api/users/", (HttpRequest request, string? page) =>
{
    var number = page is null ? 1 : int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    return Links(request).Page(number) is { } body ? Results.Ok(body) : Results.NotFound(new DetailBody("Invalid page."));
});

// A fresh secret, masked, in the cookie and the body: the work Postern's /auth/csrf does for a visitor without a cookie.
app.MapGet("/auth/csrf", (HttpResponse response) =>
{
    var secret = CsrfToken.NewSecret();
    var token = CsrfToken.Mask(secret);
    response.Cookies.Append(CookieNames.Csrf, secret, new CookieOptions { MaxAge = TimeSpan.FromDays(364), SameSite = SameSiteMode.Lax, Path = "/" });
    response.Headers[HeaderNames.CsrfToken] = token;
    return Results.Ok(new CsrfTokenBody(token));
});

app.Run();
