using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Postern.Bench.Seed;

/// <summary>
/// DRF's HyperlinkedModelSerializer shapes, as Postern and the Django peer answer them. The benchmark reads as staff, who
/// also see the account flags.
/// </summary>
public sealed record UserResource(
    string Url,
    string Username,
    string Email,
    IReadOnlyList<string> Groups,
    [property: JsonPropertyName("is_active")] bool IsActive,
    [property: JsonPropertyName("is_staff")] bool IsStaff,
    [property: JsonPropertyName("is_superuser")] bool IsSuperuser);

public sealed record GroupResource(string Url, string Name);

/// <summary>DRF's PageNumberPagination envelope.</summary>
public sealed record UserPage(int Count, string? Next, string? Previous, IReadOnlyList<UserResource> Results);

/// <summary>A PATCH of a group's name.</summary>
public sealed record GroupChange(string? Name);

public sealed record CsrfTokenBody(string CsrfToken);

public sealed record LoginBody(string? Username, string? Password);

public sealed record LoginAnswer(string Detail, string Username);

public sealed record DetailBody(string Detail);

/// <summary>Compile-time JSON for the baselines: the fastest serialization ASP.NET Core offers, so the ceiling is a ceiling.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(UserResource))]
[JsonSerializable(typeof(GroupResource))]
[JsonSerializable(typeof(UserPage))]
[JsonSerializable(typeof(GroupChange))]
[JsonSerializable(typeof(CsrfTokenBody))]
[JsonSerializable(typeof(LoginBody))]
[JsonSerializable(typeof(LoginAnswer))]
[JsonSerializable(typeof(DetailBody))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>Builds the resources with absolute links from the request's own origin, as DRF does.</summary>
public sealed class ApiLinks(string origin)
{
    public const int PageSize = 10;

    public string User(int id) => string.Create(CultureInfo.InvariantCulture, $"{origin}/api/users/{id}/");

    public string Group(int id) => string.Create(CultureInfo.InvariantCulture, $"{origin}/api/groups/{id}/");

    public UserResource Represent(SeedUser user) =>
        new(User(user.Id), user.Username, user.Email, user.GroupIds.Select(Group).ToArray(), IsActive: true, user.IsStaff, IsSuperuser: false);

    public GroupResource Represent(SeedGroup group) => new(Group(group.Id), group.Name);

    /// <summary>Page <paramref name="page"/> (1-based) of the users in id order; null past the last page.</summary>
    public UserPage? Page(int page)
    {
        var users = SeedData.Users;
        var pages = (users.Count + PageSize - 1) / PageSize;
        if (page < 1 || page > pages)
            return null;
        var list = $"{origin}/api/users/";
        var next = page < pages ? string.Create(CultureInfo.InvariantCulture, $"{list}?page={page + 1}") : null;
        // DRF drops ?page=1 from the link to the first page.
        var previous = page switch { 1 => null, 2 => list, _ => string.Create(CultureInfo.InvariantCulture, $"{list}?page={page - 1}") };
        return new UserPage(users.Count, next, previous, users.Skip((page - 1) * PageSize).Take(PageSize).Select(Represent).ToArray());
    }
}
