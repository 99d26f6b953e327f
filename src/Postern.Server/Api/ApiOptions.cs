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
}
