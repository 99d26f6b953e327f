namespace Postern.Server.Http;

/// <summary>
/// The request's form (urlencoded or multipart), as Django's <c>request.POST</c>. A body that is not the
/// form its Content-Type announces (truncated multipart, too many fields, a charset .NET refuses) is the
/// client's mistake, so it comes back as null, "unreadable", instead of an exception that would become a 500.
/// </summary>
public static class RequestForm
{
    /// <summary>
    /// The parsed form, or null if the body cannot be read as one. ASP.NET caches the outcome per request,
    /// so every caller sees the same form or the same failure. Kestrel's own verdicts on the body
    /// (too large, ended early, too slow) still throw, carrying their 4xx status.
    /// </summary>
    public static async Task<IFormCollection?> TryReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (BadHttpRequestException)
        {
            throw;
        }
        catch (Exception e) when (IsUnreadableBody(e) && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    // InvalidDataException: the form limits, a missing boundary, bad part headers. IOException: a multipart
    // body that ends before its closing boundary. NotSupportedException: charset=utf-7, which .NET disables.
    private static bool IsUnreadableBody(Exception e) => e is InvalidDataException or IOException or NotSupportedException;
}
