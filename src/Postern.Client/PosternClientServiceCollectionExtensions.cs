using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Postern.Client;

/// <summary>Creates sessions that share pooled connections (IHttpClientFactory) but never cookies.</summary>
public interface IPosternSessionFactory
{
    /// <summary>A new session with an empty cookie jar, for one user.</summary>
    PosternSession CreateSession();
}

internal sealed class PosternSessionFactory(IHttpMessageHandlerFactory handlers, IOptions<PosternClientOptions> options)
    : IPosternSessionFactory
{
    public const string HttpClientName = "Postern";

    public PosternSession CreateSession() =>
        new(options.Value.MemberwiseCloneOptions(), handlers.CreateHandler(HttpClientName), disposeInner: false);
}

public static class PosternClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IPosternSessionFactory"/>. The connection handler is pooled by IHttpClientFactory
    /// (with cookies off); each session keeps its own jar on top of it.
    /// </summary>
    public static IHttpClientBuilder AddPosternClient(this IServiceCollection services, Action<PosternClientOptions> configure)
    {
        services.Configure(configure);
        services.AddSingleton<IPosternSessionFactory, PosternSessionFactory>();
        return services.AddHttpClient(PosternSessionFactory.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(provider =>
                provider.GetRequiredService<IOptions<PosternClientOptions>>().Value.CreateHandler());
    }
}
