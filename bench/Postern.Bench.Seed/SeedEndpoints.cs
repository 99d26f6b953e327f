using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Postern.Bench.Seed;

/// <summary>The read endpoints both baselines serve from <see cref="SeedData"/>, as Postern answers them.</summary>
public static class SeedEndpoints
{
    /// <summary>Links from the request's own scheme and host, as DRF builds them.</summary>
    public static ApiLinks Links(HttpRequest request) => new($"{request.Scheme}://{request.Host}");

    public static RouteHandlerBuilder MapUserDetail(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/users/{id:int}/", (int id, HttpRequest request) =>
            SeedData.FindUser(id) is { } user
                ? Results.Ok(Links(request).Represent(user))
                : Results.NotFound(new DetailBody("No User matches the given query.")));

    public static RouteHandlerBuilder MapUserList(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/users/", (HttpRequest request, string? page) =>
        {
            var number = page is null ? 1 : int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            return Links(request).Page(number) is { } body ? Results.Ok(body) : Results.NotFound(new DetailBody("Invalid page."));
        });
}
