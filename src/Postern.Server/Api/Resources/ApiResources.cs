using Postern.Server.Accounts;

namespace Postern.Server.Api.Resources;

/// <summary>
/// The router's registry (DRF's <c>router.register</c>): the resources under <c>/api/</c>, in the order the API root
/// lists them. A new resource of Postern's is its declaration, one line here, and its migration (Storage/Schema/Migrations.cs).
/// </summary>
public static class ApiResources
{
    public static IReadOnlyList<ApiResource> All { get; } =
    [
        UsersResource.Declaration,
        GroupsResource.Declaration,
        SessionsResource.Declaration,
        TokensResource.Declaration,
        EventsResource.Declaration,
    ];
}

/// <summary>The user's URL for <c>/auth/user</c>, reversed from the route table.</summary>
public sealed class ApiUserLinks(RouteTable routes) : IUserLinks
{
    public string UserUrl(HttpRequest request, long userId) => new ApiLinks(request, routes).Instance(UsersResource.Declaration, userId);
}
