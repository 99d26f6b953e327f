using System.Globalization;
using Postern.Server.Api;

namespace Postern.Server.Browsable;

/// <summary>
/// DRF's page controls for a paginated list: previous, the page numbers near the current one and at both ends (a gap for
/// the rest), next. Each link is the list's own URL with <c>page</c> replaced, as the body's next and previous are.
/// </summary>
public static class PageLinks
{
    public static void Write(Html html, HttpRequest request, Page page)
    {
        var pages = (int)Math.Max(1, (page.Count + page.Size - 1) / page.Size);
        if (pages <= 1)
            return;
        html.Raw("<nav class=\"pagination\" aria-label=\"Pages\"><ul>");
        WriteStep(html, page.Previous, "prev", "Previous", "«");
        foreach (var number in DisplayedPageNumbers(page.Number, pages))
        {
            html.Raw("<li>");
            if (number is not { } n)
                html.Raw("<span class=\"gap\">…</span>");
            else if (n == page.Number)
                html.Raw("<a aria-current=\"page\" href=\"").Text(PageUrl(request, n)).Raw("\">").Text(Number(n)).Raw("</a>");
            else
                html.Raw("<a href=\"").Text(PageUrl(request, n)).Raw("\">").Text(Number(n)).Raw("</a>");
            html.Raw("</li>");
        }
        WriteStep(html, page.Next, "next", "Next", "»");
        html.Raw("</ul></nav>");
    }

    /// <summary>
    /// DRF's _get_displayed_page_numbers: all pages up to five; otherwise the first, the last, the current one and its
    /// neighbours, the first three or last three near an end; null where pages are left out.
    /// </summary>
    public static IReadOnlyList<int?> DisplayedPageNumbers(int current, int final)
    {
        if (final <= 5)
            return [.. Enumerable.Range(1, final).Select(n => (int?)n)];
        var included = new SortedSet<int> { 1, current - 1, current, current + 1, final };
        if (current <= 4)
            included.UnionWith([2, 3]);
        if (current >= final - 3)
            included.UnionWith([final - 1, final - 2]);
        var shown = included.Where(n => n > 0 && n <= final).Select(n => (int?)n).ToList();
        if (current > 4)
            shown.Insert(1, null);
        if (current < final - 3)
            shown.Insert(shown.Count - 1, null);
        return shown;
    }

    private static void WriteStep(Html html, string? url, string rel, string label, string arrow)
    {
        html.Raw("<li>");
        if (url is null)
            html.Raw("<span class=\"disabled\" aria-hidden=\"true\">").Raw(arrow).Raw("</span>");
        else
            html.Raw("<a rel=\"").Raw(rel).Raw("\" aria-label=\"").Raw(label).Raw("\" href=\"").Text(url).Raw("\">").Raw(arrow)
                .Raw("</a>");
        html.Raw("</li>");
    }

    /// <summary>Page 1 without the parameter, as DRF links it.</summary>
    private static string PageUrl(HttpRequest request, int number) =>
        ApiLinks.WithQueryParameter(request, "page", number == 1 ? null : Number(number));

    private static string Number(int number) => number.ToString(CultureInfo.InvariantCulture);
}
