using System.ComponentModel.DataAnnotations;

namespace Postern.Server.Api;

/// <summary>The hypermedia API (<c>Postern:Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Postern:Api";

    /// <summary>DRF's PAGE_SIZE.</summary>
    [Range(1, 10_000)]
    public int PageSize { get; set; } = 10;

    /// <summary>The largest <c>?page_size=</c> a client may ask for.</summary>
    [Range(1, 10_000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>The OpenAPI document and the reference page over it (<c>Postern:Api:Schema</c>).</summary>
    public ApiSchemaOptions Schema { get; set; } = new();
}

/// <summary>The OpenAPI document at <c>/api/schema/</c> and the reference page at <c>/api/docs/</c> (<c>Postern:Api:Schema</c>).</summary>
public sealed class ApiSchemaOptions
{
    /// <summary>False: neither path exists (404), for a deployment that does not publish its API's description.</summary>
    public bool Enabled { get; set; } = true;
}
