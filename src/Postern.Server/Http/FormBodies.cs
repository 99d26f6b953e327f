namespace Postern.Server.Http;

/// <summary>Reads urlencoded and multipart bodies so that every malformed one fails the same way.</summary>
public static class FormBodies
{
    /// <summary>
    /// The request's form. A body the parser rejects throws <see cref="InvalidDataException"/>, which
    /// the CSRF check reads as "no form token" and the error middleware answers with 400. A multipart
    /// body that stops before its closing boundary makes ASP.NET's reader throw a bare
    /// <see cref="IOException"/> instead, which would otherwise surface as a 500.
    /// </summary>
    public static async Task<IFormCollection> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            throw new InvalidDataException("The form body ended before it was complete.", e);
        }
    }
}
