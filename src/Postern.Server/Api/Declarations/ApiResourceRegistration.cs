namespace Postern.Server.Api;

/// <summary>A resource registered with the API (in dependency injection, so that an application embedding Postern adds its own).</summary>
public sealed record ApiResourceRegistration(ApiResource Resource);

public static class ApiResourceServiceCollectionExtensions
{
    /// <summary>
    /// Adds a resource to the API, after the built-in ones: its routes, links, root entry, forms and OpenAPI paths
    /// follow.
    /// </summary>
    public static IServiceCollection AddApiResource(this IServiceCollection services, ApiResource resource) =>
        services.AddSingleton(new ApiResourceRegistration(resource));
}
