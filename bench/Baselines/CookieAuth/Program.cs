// The .NET default: Microsoft's cookie authentication (the signed-in user is an encrypted ticket in the
// cookie: nothing to look up, and nothing a logout elsewhere can revoke) and antiforgery for the token
// pair, serving the same users and groups as Postern from memory. Passwords are Django-format PBKDF2
// hashes with Postern's iteration count, checked on the request's own thread as a typical app does.
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Postern.Bench.Seed;
using Postern.Protocol;

const string StaffClaim = "is_staff";
const string StaffPolicy = "staff";

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
// Keys in memory: the benchmark writes nothing outside its temporary folder.
builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
{
    o.ExpireTimeSpan = TimeSpan.FromDays(14);
    // An API answers 401/403, not a redirect to a login page.
    o.Events.OnRedirectToLogin = context => { context.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
    o.Events.OnRedirectToAccessDenied = context =>
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    };
});
builder.Services.AddAuthorizationBuilder().AddPolicy(StaffPolicy, p => p.RequireClaim(StaffClaim, "true"));
builder.Services.AddAntiforgery(o => o.HeaderName = HeaderNames.CsrfToken);
var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();

var passwords = SeedData.Users.Where(u => u.Password is not null).AsParallel()
    .ToDictionary(u => u.Username, u => DjangoPasswordHash.Encode(u.Password!, DjangoPasswordHash.Django52Iterations));
var groupNames = new ConcurrentDictionary<int, string>(SeedData.Groups.ToDictionary(g => g.Id, g => g.Name));

static async ValueTask<object?> RequireAntiforgery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
{
    var antiforgery = context.HttpContext.RequestServices.GetRequiredService<IAntiforgery>();
    if (!await antiforgery.IsRequestValidAsync(context.HttpContext))
        return Results.Json(new DetailBody("CSRF Failed."), ApiJsonContext.Default.DetailBody, statusCode: StatusCodes.Status403Forbidden);
    return await next(context);
}

app.MapGet("/auth/csrf", (HttpContext context, IAntiforgery antiforgery) =>
{
    var tokens = antiforgery.GetAndStoreTokens(context);
    context.Response.Headers[HeaderNames.CsrfToken] = tokens.RequestToken;
    return Results.Ok(new CsrfTokenBody(tokens.RequestToken!));
});

app.MapPost("/auth/login", async (HttpContext context, LoginBody body) =>
{
    var user = SeedData.Users.FirstOrDefault(u => u.Username == body.Username);
    if (user is null || body.Password is null || !passwords.TryGetValue(user.Username, out var encoded)
        || !DjangoPasswordHash.TryParse(encoded, out var hash) || !hash.Verify(body.Password))
        return Results.Json(new DetailBody("Invalid username or password."), ApiJsonContext.Default.DetailBody,
            statusCode: StatusCodes.Status401Unauthorized);
    var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, user.Username),
            new Claim(StaffClaim, user.IsStaff ? "true" : "false"),
        ], CookieAuthenticationDefaults.AuthenticationScheme);
    await context.SignInAsync(new ClaimsPrincipal(identity));
    return Results.Ok(new LoginAnswer("Successfully logged in.", user.Username));
}).AddEndpointFilter(RequireAntiforgery);

app.MapUserDetail().RequireAuthorization();
app.MapUserList().RequireAuthorization();

app.MapMethods("/api/groups/{id:int}/", ["PATCH"], (int id, HttpRequest request, GroupChange change) =>
{
    if (!groupNames.ContainsKey(id))
        return Results.NotFound(new DetailBody("No Group matches the given query."));
    if (string.IsNullOrWhiteSpace(change.Name))
        return Results.BadRequest(new DetailBody("name: This field may not be blank."));
    groupNames[id] = change.Name;
    return Results.Ok(SeedEndpoints.Links(request).Represent(new SeedGroup(id, change.Name)));
}).RequireAuthorization(StaffPolicy).AddEndpointFilter(RequireAntiforgery);

app.Run();
