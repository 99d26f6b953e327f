using Postern.Protocol;

namespace Postern.Differential.Tests;

/// <summary>
/// How the two observations of one step must relate: equal, or, where Postern differs on purpose,
/// equal once the deliberately different facts are set aside, with those facts checked on their own.
/// </summary>
public sealed class Expectation
{
    private readonly Func<Observation, Observation> _peerView;
    private readonly Func<Observation, Observation> _posternView;
    private readonly Func<Observation, Observation, IEnumerable<string>> _checkDifference;

    private Expectation(string? deliberateDifference, Func<Observation, Observation> peerView, Func<Observation, Observation> posternView,
        Func<Observation, Observation, IEnumerable<string>> checkDifference)
    {
        DeliberateDifference = deliberateDifference;
        _peerView = peerView;
        _posternView = posternView;
        _checkDifference = checkDifference;
    }

    /// <summary>Why Postern answers differently here, or null when it must not.</summary>
    public string? DeliberateDifference { get; }

    /// <summary>Every observation must match.</summary>
    public static Expectation Same { get; } = new(null, o => o, o => o, (_, _) => []);

    /// <summary>
    /// Postern differs on purpose: <paramref name="setAside"/> removes the facts that may differ from both
    /// sides before they are compared, and <paramref name="check"/> says what those facts must be instead.
    /// </summary>
    public static Expectation Deliberate(
        string why, Func<Observation, Observation> setAside, Func<Observation, Observation, IEnumerable<string>> check) =>
        new(why, setAside, setAside, check);

    private static Expectation Deliberate(string why, Func<Observation, Observation> peerView, Func<Observation, Observation> posternView,
        Func<Observation, Observation, IEnumerable<string>> check) =>
        new(why, peerView, posternView, check);

    /// <summary>Problems with this step, as readable lines; empty when the step passes.</summary>
    public IEnumerable<string> Problems(Observation peer, Observation postern) =>
        Observation.Differences(_peerView(peer), _posternView(postern)).Concat(_checkDifference(peer, postern));

    private static IEnumerable<string> Require(bool condition, string problem) => condition ? [] : [problem];

    private static Observation WithoutBody(Observation observation) =>
        observation.Without(Observation.Content).Without(Observation.JsonPrefix).Without(Observation.JsonKeys);

    /// <summary>
    /// Deliberate difference 1: a CSRF failure on /auth/ is Django's HTML 403 page, Postern's DRF-style JSON with
    /// Django's reason.
    /// </summary>
    public static Expectation CsrfFailure(string djangoReason) => Deliberate(
        "CSRF failure: Django answers its HTML 403 page, Postern 403 JSON {\"detail\": \"CSRF Failed: <Django's reason>\"}",
        WithoutBody,
        (peer, postern) => Require(peer[Observation.Content] == "html",
                $"django should answer its HTML 403 page, content was {peer[Observation.Content]}")
            .Concat(Require(postern[Observation.Content] == "json",
                $"postern should answer JSON, content was {postern[Observation.Content]}"))
            .Concat(Require(postern[Observation.Detail] == Quoted("CSRF Failed: " + djangoReason),
                $"postern detail should be {Quoted("CSRF Failed: " + djangoReason)}, was {postern[Observation.Detail] ?? "(none)"}")));

    /// <summary>Deliberate difference 2: a 405 is empty on Django, DRF's JSON detail on Postern; status and Allow still match.</summary>
    public static Expectation MethodNotAllowed(string method) => Deliberate(
        "405: Django sends an empty body, Postern JSON {\"detail\": \"Method \\\"X\\\" not allowed.\"}",
        WithoutBody,
        (peer, postern) => Require(peer[Observation.Content] == "empty", $"django's 405 should be empty, was {peer[Observation.Content]}")
            // A HEAD response carries no body at all, so only other methods show Postern's detail.
            .Concat(method == "HEAD" ? [] : Require(postern[Observation.Detail] == Quoted($"Method \"{method}\" not allowed."),
                $"postern detail should be {Quoted($"Method \"{method}\" not allowed.")}, was {postern[Observation.Detail] ?? "(none)"}")));

    /// <summary>
    /// Deliberate difference 3: signing in again as the same user keeps Django's session key; Postern always issues a
    /// new one.
    /// </summary>
    public static Expectation ReloginIssuesNewSessionKey { get; } = Deliberate(
        "re-login as the same user: Django keeps the session key, Postern always issues a new one",
        o => o.With(Observation.CookieFact(CookieNames.Session), null),
        (peer, postern) => Require(peer[Observation.CookieFact(CookieNames.Session)]?.Contains("kept", StringComparison.Ordinal) == true,
                $"django should keep the session key, said {peer[Observation.CookieFact(CookieNames.Session)] ?? "(no cookie)"}")
            .Concat(Require(postern[Observation.CookieFact(CookieNames.Session)]?.Contains("replaced", StringComparison.Ordinal) == true,
                $"postern should issue a new session key, said {postern[Observation.CookieFact(CookieNames.Session)] ?? "(no cookie)"}")));

    /// <summary>Deliberate difference 4: Postern's /auth/user body is a superset of the peer's (username, email, is_staff).</summary>
    public static Expectation CurrentUserSuperset { get; } = Deliberate(
        "/auth/user: Postern's JSON is a superset of Django's (adds email, is_staff)",
        o => o.Without(Observation.JsonKeys).Without(Observation.JsonPrefix),
        (peer, postern) => peer.Facts.Where(f => f.Key.StartsWith(Observation.JsonPrefix, StringComparison.Ordinal))
            .SelectMany(f => Require(postern[f.Key] == f.Value,
                $"{f.Key}: django={f.Value} | postern={postern[f.Key] ?? "(none)"} (Postern's body must contain Django's)")));

    /// <summary>Deliberate difference 5a: Django's 404 is its HTML page, Postern's DRF's JSON detail.</summary>
    public static Expectation NotFound { get; } = Deliberate(
        "404: Django's HTML page, Postern JSON {\"detail\": \"Not found.\"}",
        WithoutBody,
        (peer, postern) => Require(peer[Observation.Content] == "html", $"django's 404 should be HTML, was {peer[Observation.Content]}")
            .Concat(Require(postern[Observation.Detail] == Quoted("Not found."),
                $"postern detail should be \"Not found.\", was {postern[Observation.Detail] ?? "(none)"}")));

    /// <summary>
    /// Deliberate difference 5b: with a trailing slash the peer has no such URL (APPEND_SLASH is off), while
    /// Postern answers as without the slash; <paramref name="posternStatus"/> is what the slashless path answers.
    /// </summary>
    public static Expectation TrailingSlashServedByPosternOnly(int posternStatus) => Deliberate(
        "trailing slash: Django 404s (no such URL), Postern serves the path as without the slash",
        _ => EmptyObservation, _ => EmptyObservation,
        (peer, postern) => Require(peer[Observation.Status] == "404", $"django should 404, said {peer[Observation.Status]}")
            .Concat(Require(postern[Observation.Status] == Status(posternStatus),
                $"postern should answer {posternStatus}, said {postern[Observation.Status]}")));

    /// <summary>
    /// Deliberate difference 6: a password over 4096 characters is 401 on Django (check_password refuses it), 400 on
    /// Postern.
    /// </summary>
    public static Expectation OverlongPassword { get; } = Deliberate(
        "password over 4096 chars: Django 401 \"Invalid username or password.\", Postern 400 with its own detail",
        o => o.Without(Observation.Status).Without(Observation.Detail),
        (peer, postern) => Require(peer[Observation.Status] == "401", $"django should answer 401, said {peer[Observation.Status]}")
            .Concat(Require(postern[Observation.Status] == "400", $"postern should answer 400, said {postern[Observation.Status]}"))
            .Concat(Require(postern[Observation.Detail]
                    == Quoted($"Ensure the password has no more than {DjangoPasswordHash.MaxPasswordLength} characters."),
                $"postern's detail should name the limit, was {postern[Observation.Detail] ?? "(none)"}")));

    /// <summary>
    /// Deliberate difference 8: Postern refuses bodies over <c>Postern:Limits:MaxRequestBodyBytes</c> (1 MiB)
    /// with 413 before reading them; Django reads up to DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), then answers its HTML 400
    /// (seen on the peer by hand; not played, see the scenario).
    /// </summary>
    public static Expectation BodyOverPosternLimit(int djangoStatus) => Diverges(
        "body size: Postern 413 over 1 MiB (Postern:Limits:MaxRequestBodyBytes), Django reads up to 2.5 MB and answers an HTML 400 beyond",
        djangoStatus, 413, "Request body too large.");

    /// <summary>
    /// Deliberate difference 9: a multipart body ASP.NET's reader cannot parse is 400 JSON "Malformed request body." on
    /// Postern; Django's parser either salvages what it can (no closing boundary still yields the fields) or answers its HTML 400.
    /// </summary>
    public static Expectation StrictMultipart(int djangoStatus) => Diverges(
        "malformed multipart: Postern's parser is strict (400 \"Malformed request body.\"), Django's lenient or an HTML 400",
        djangoStatus, 400, "Malformed request body.");

    /// <summary>
    /// Deliberate difference 10 (docs/accounts.md, docs/differences-from-django.md): a new password over 4096 characters
    /// is hashed and taken by Django (<paramref name="djangoStatus"/>); Postern refuses it before hashing, 400 on its field.
    /// </summary>
    /// <param name="message">Postern's message: a form's by default; an /api/ action's is DRF's.</param>
    public static Expectation OverlongNewPassword(int djangoStatus, string? message = null)
    {
        message = Quoted(message ?? $"Ensure this value has at most {DjangoPasswordHash.MaxPasswordLength} characters "
            + $"(it has {DjangoPasswordHash.MaxPasswordLength + 1}).");
        return Deliberate(
            "new password over 4096 chars: Django hashes and takes it, Postern 400 on the field before hashing",
            _ => EmptyObservation,
            (peer, postern) => Require(peer[Observation.Status] == Status(djangoStatus),
                    $"django should answer {djangoStatus}, said {peer[Observation.Status]}")
                .Concat(Require(postern[Observation.Status] == "400", $"postern should answer 400, said {postern[Observation.Status]}"))
                .Concat(Require(postern.Facts.Any(f => f.Key.StartsWith(Observation.JsonPrefix, StringComparison.Ordinal)
                        && f.Value.Contains(message, StringComparison.Ordinal)),
                    $"postern should name the limit on the field ({message})")));
    }

    /// <summary>The servers answer differently on purpose: only each one's status (and Postern's detail) are checked.</summary>
    private static Expectation Diverges(string why, int djangoStatus, int posternStatus, string? posternDetail) => Deliberate(
        why, _ => EmptyObservation,
        (peer, postern) => Require(peer[Observation.Status] == Status(djangoStatus),
                $"django should answer {djangoStatus}, said {peer[Observation.Status]}")
            .Concat(Require(postern[Observation.Status] == Status(posternStatus),
                $"postern should answer {posternStatus}, said {postern[Observation.Status]}"))
            .Concat(posternDetail is null ? [] : Require(postern[Observation.Detail] == Quoted(posternDetail),
                $"postern detail should be {Quoted(posternDetail)}, was {postern[Observation.Detail] ?? "(none)"}")));

    private static readonly Observation EmptyObservation =
        new(System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty);

    private static string Status(int status) => status.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Quoted(string text) => Observation.Quote(text);
}
