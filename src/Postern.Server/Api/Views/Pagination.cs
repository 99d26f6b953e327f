using System.Globalization;

namespace Postern.Server.Api;

/// <summary>One page of a list: which rows, and the links around it.</summary>
public sealed record Page(int Number, int Size, long Count, int Offset, string? Next, string? Previous);

/// <summary>
/// DRF's PageNumberPagination: <c>?page=N</c> (or <c>last</c>), <c>count/next/previous/results</c>,
/// page 1 linked without the parameter; an out-of-range or non-numeric page is 404 "Invalid page.".
/// Postern adds an optional <c>?page_size=</c>, capped.
/// </summary>
public static class Pagination
{
    public const string InvalidPage = "Invalid page.";

    public static bool TryPaginate(HttpRequest request, long count, ApiOptions options, out Page page)
    {
        var size = PageSize(request, options);
        var pages = (int)Math.Max(1, (count + size - 1) / size);
        page = null!;
        var requested = request.Query["page"].LastOrDefault() ?? "1";
        int number;
        if (requested == "last")
            number = pages;
        else if (!int.TryParse(requested, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                     CultureInfo.InvariantCulture, out number) || number < 1 || number > pages)
            return false;
        var next = number < pages
            ? ApiLinks.WithQueryParameter(request, "page", (number + 1).ToString(CultureInfo.InvariantCulture))
            : null;
        var previous = number switch
        {
            1 => null,
            2 => ApiLinks.WithQueryParameter(request, "page", null),
            _ => ApiLinks.WithQueryParameter(request, "page", (number - 1).ToString(CultureInfo.InvariantCulture)),
        };
        page = new Page(number, size, count, (number - 1) * size, next, previous);
        return true;
    }

    private static int PageSize(HttpRequest request, ApiOptions options)
    {
        var asked = request.Query["page_size"].LastOrDefault();
        return asked is not null && int.TryParse(asked, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
            ? Math.Min(size, options.MaxPageSize)
            : options.PageSize;
    }
}
