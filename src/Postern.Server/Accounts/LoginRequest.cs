using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Postern.Protocol;
using Postern.Server.Http;

namespace Postern.Server.Accounts;

/// <summary>The credentials of a login request, read from a JSON, urlencoded or multipart body.</summary>
public readonly record struct LoginRequest(string? Username, string? Password, bool Malformed)
{
    public static async Task<LoginRequest> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (IsJson(request.ContentType))
            return await ReadJsonAsync(request, ct);
        if (request.HasFormContentType)
        {
            var form = await RequestForm.TryReadAsync(request, ct);
            return form is null
                ? new LoginRequest(null, null, true)
                : new LoginRequest(form[FormFields.Username].LastOrDefault(), form[FormFields.Password].LastOrDefault(), false);
        }
        // Any other body carries no fields, as Django's request.POST is empty for it.
        return new LoginRequest(null, null, false);
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private static async Task<LoginRequest> ReadJsonAsync(HttpRequest request, CancellationToken ct)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        if (body.Length == 0)
            return new LoginRequest(null, null, false);
        // Decoded first, strictly, as json.loads does in the peer: invalid bytes are a malformed body (System.Text.Json
        // would only fail on reading such a string, with a 500), and UTF-16/32 or BOM-prefixed bodies parse as there.
        var text = JsonBodyText.Decode(body.GetBuffer().AsSpan(0, (int)body.Length));
        if (text is null)
            return new LoginRequest(null, null, true);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return new LoginRequest(null, null, true);
            string? username = null, password = null;
            // The last duplicate key wins, as in Python's json.
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals(FormFields.Username))
                    username = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                else if (property.NameEquals(FormFields.Password))
                    password = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            }
            return new LoginRequest(username, password, false);
        }
        catch (JsonException)
        {
            return new LoginRequest(null, null, true);
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") is valid JSON but no string; Django would fail to encode it later with a 500.
            return new LoginRequest(null, null, true);
        }
    }
}
