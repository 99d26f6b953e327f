using Postern.Server.Storage.Caching;

namespace Postern.Server.Hosting;

/// <summary>
/// Gives the cached reads of each request one change token (<see cref="ReadCache.BeginRequestScope"/>): read at the
/// first of them, so a write committed before the request arrived is seen, and then not read again for this request.
/// An async method around the rest of the pipeline, so the scope ends with the request.
/// </summary>
public sealed class OneChangeTokenPerRequestMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        using (ReadCache.BeginRequestScope())
            await next(context);
    }
}
