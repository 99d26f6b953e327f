#!/usr/bin/python3
"""check.py: plays login, wrong password, the DRF list, whoami, logout and two-factor login against the
django-allauth peer, as a client would (Python's urllib only), and says what differs from README.md.

    tests/allauth-site/check.py                  the newest allauth (ALLAUTH=new, the default)
    ALLAUTH=0.51 tests/allauth-site/check.py     Debian 12's allauth 0.51
    tests/allauth-site/check.py -v               also prints every request and answer (the wire facts)
    tests/allauth-site/check.py http://127.0.0.1:8011   a peer already running (ALLAUTH says which);
                                                 the recovery-code checks need a server of its own

Without a URL it starts run.sh on a free port (one gunicorn worker, allauth's rate limits on, a fresh
database in a folder of its own) and stops it at the end. Exit status 1 when a check fails.
"""
import atexit
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = os.environ.get("ALLAUTH", "new")
NEW = RELEASE == "new"
VERBOSE = "-v" in sys.argv[1:]
URLS = [a for a in sys.argv[1:] if not a.startswith("-")]
CAROL_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # seed.py's
HEADLESS = "/_allauth/browser/v1"
BAD_CREDENTIALS = "The username and/or password you specified are not correct."
TOO_MANY = "Too many failed login attempts. Try again later."
failures = []


def check(what, ok, detail=""):
    if ok:
        print(f"ok    {what}")
    else:
        print(f"FAIL  {what}: {detail}")
        failures.append(what)
    return ok


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_cookies(self):
        return self.headers.get_all("Set-Cookie") or []


class Client:
    """A browser-like client: a cookie jar, no redirects followed (so each 302 is seen), a same-origin Referer."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirects)

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def set_session(self, value):
        self.jar.set_cookie(http.cookiejar.Cookie(
            0, "sessionid", value, None, False, "127.0.0.1", False, False, "/", True, False, None, True, None, None, {}))

    def request(self, method, path, data=None, headers=None):
        headers = dict(headers or {})
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            answer = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            answer = error
        response = Response(answer.status, answer.headers, answer.read().decode("utf-8", "replace"))
        if VERBOSE:
            shown = data.decode() if data else ""
            print(f"  >> {method} {path} {shown}".rstrip())
            for name in ("Location", "Retry-After"):
                if response.headers.get(name):
                    print(f"  << {name}: {response.headers.get(name)}")
            for cookie in response.set_cookies():
                print(f"  << Set-Cookie: {cookie.split(';')[0][:60]}")
            kind = response.headers.get("Content-Type") or ""
            body = response.body if "json" in kind else re.sub(r"\s+", " ", response.body)[:120]
            print(f"  << {response.status} {kind} {body[:700]}")
        return response

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def form(self, path, fields, **headers):
        """POST fields as a browser submits a form: urlencoded, with a same-origin Referer."""
        headers.setdefault("Referer", self.base + path)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.request("POST", path, urllib.parse.urlencode(fields).encode(), headers)

    def api(self, method, path, body=None, csrf=True):
        """allauth's headless browser client: JSON, and the csrftoken cookie echoed in X-CSRFToken."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if csrf and self.cookie("csrftoken"):
            headers["X-CSRFToken"] = self.cookie("csrftoken")
        return self.request(method, path, None if body is None else json.dumps(body).encode(), headers)


def hidden_token(html):
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else None


def form_errors(html):
    """The texts of the errorlists of a rendered Django form."""
    return [re.sub(r"<[^>]+>", "", item).strip()
            for errorlist in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
            for item in re.findall(r"<li>(.*?)</li>", errorlist, re.S)]


def totp(secret, at=None):
    """RFC 6238 with allauth's defaults: SHA-1, 6 digits, 30 seconds."""
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def fresh_totp_window(seconds_needed=8):
    """Waits, if need be, so that a code stays valid for seconds_needed more (allauth's tolerance is 0)."""
    left = 30 - time.time() % 30
    if left < seconds_needed:
        time.sleep(left + 0.5)


def next_totp_window(after_code):
    """Waits until the code is not after_code any more: allauth refuses a code that was already used."""
    while totp(CAROL_TOTP_SECRET) == after_code:
        time.sleep(30 - time.time() % 30 + 0.5)


# The HTML forms (both releases).

def form_login(client, login, password, expect_ok=True, what=None):
    what = what or f"form login as {login!r}"
    page = client.get("/accounts/login/")
    token = hidden_token(page.body)
    check(f"{what}: GET /accounts/login/ is 200 with the form (login, password, csrfmiddlewaretoken)",
          page.status == 200 and token and 'name="login"' in page.body and 'type="password"' in page.body,
          f"{page.status}")
    before = client.cookie("sessionid")
    response = client.form("/accounts/login/", {"login": login, "password": password, "csrfmiddlewaretoken": token})
    if expect_ok:
        check(f"{what}: 302 to LOGIN_REDIRECT_URL /api/ with a new sessionid cookie",
              response.status == 302 and response.headers.get("Location") == "/api/"
              and client.cookie("sessionid") and client.cookie("sessionid") != before,
              f"{response.status} {response.headers.get('Location')} {response.body[:200]}")
    return response


def whoami(client, expected, label="without a session"):
    response = client.get("/api/me/", Accept="application/json")
    body = response.json() or {}
    if expected is None:
        return check(f"GET /api/me/ {label} is 403 " '{"detail": "Authentication credentials were not provided."}',
                     response.status == 403
                     and body == {"detail": "Authentication credentials were not provided."}, response.body[:200])
    return check(f"GET /api/me/ is 200 with username {expected!r}",
                 response.status == 200 and body.get("username") == expected, f"{response.status} {response.body[:200]}")


def form_logout(client):
    old = client.cookie("sessionid")
    page = client.get("/accounts/logout/")
    token = hidden_token(page.body)
    check("GET /accounts/logout/ is 200: a confirmation form (ACCOUNT_LOGOUT_ON_GET is off), nothing ends yet",
          page.status == 200 and token and 'action="/accounts/logout/"' in page.body and client.cookie("sessionid") == old,
          f"{page.status}")
    response = client.form("/accounts/logout/", {"csrfmiddlewaretoken": token})
    check("POST /accounts/logout/ is 302 to /accounts/login/, deleting the sessionid cookie",
          response.status == 302 and response.headers.get("Location") == "/accounts/login/"
          and any(c.startswith('sessionid="";') for c in response.set_cookies()),
          f"{response.status} {response.headers.get('Location')} {response.set_cookies()}")
    return old


def old_session_refused(base, old):
    stale = Client(base)
    stale.set_session(old)
    whoami(stale, None, "with the ended session's cookie")


def check_forms(base):
    print(f"-- the HTML forms ({RELEASE})")
    client = Client(base)
    response = form_login(client, "alice", "wrong", expect_ok=False, what="wrong password")
    check("wrong password: 200, the form again with allauth's error and no session",
          response.status == 200 and form_errors(response.body) == [BAD_CREDENTIALS]
          and 'name="login"' in response.body and client.cookie("sessionid") is None,
          f"{response.status} {form_errors(response.body)}")

    form_login(client, "alice", "alice-password", what="login by username")
    whoami(client, "alice")
    # The DRF list, every page (what `postern get --all` walks).
    names, path, pages = [], "/api/users/", 0
    while path:
        response = client.get(path, Accept="application/json")
        body = response.json() or {}
        if not check(f"GET {path} is 200 with count 33", response.status == 200 and body.get("count") == 33,
                     f"{response.status} {response.body[:200]}"):
            break
        names += [u["username"] for u in body["results"]]
        pages += 1
        path = body["next"][len(base):] if body.get("next") else None
    check("/api/users/ spans 4 pages of 10 with all 33 users", pages == 4 and len(set(names)) == 33, f"{pages} {names}")
    old = form_logout(client)
    whoami(client, None)
    old_session_refused(base, old)

    client = Client(base)
    form_login(client, "bob@example.com", "bob-password", what="login by e-mail")
    whoami(client, "bob")
    form_logout(client)

    client = Client(base)
    client.get("/accounts/login/")
    response = client.form("/accounts/login/", {"login": "bob", "password": "bob-password"})
    check("a login POST without csrfmiddlewaretoken is Django's HTML 403 (CSRF)",
          response.status == 403 and "CSRF" in response.body and client.cookie("sessionid") is None, f"{response.status}")

    # Accept: application/json (or X-Requested-With) makes allauth's form view answer as to an AJAX post.
    client = Client(base)
    token = hidden_token(client.get("/accounts/login/").body)
    response = client.form("/accounts/login/", {"login": "bob", "password": "wrong", "csrfmiddlewaretoken": token},
                           Accept="application/json")
    body = response.json() or {}
    check("AJAX form post, wrong password: 400 JSON {form: {errors: [...], fields: {...}}, html}",
          response.status == 400 and body.get("form", {}).get("errors") == [BAD_CREDENTIALS], response.body[:200])
    response = client.form("/accounts/login/", {"login": "bob", "password": "bob-password", "csrfmiddlewaretoken": token},
                           Accept="application/json")
    body = response.json() or {}
    check("AJAX form post, right password: 200 JSON {location: \"/api/\", form: ...} and a sessionid",
          response.status == 200 and body.get("location") == "/api/" and client.cookie("sessionid"), response.body[:200])

    # DRF's own form login.
    client = Client(base)
    page = client.get("/api-auth/login/")
    response = client.form("/api-auth/login/", {"username": "bob", "password": "bob-password",
                                                "csrfmiddlewaretoken": hidden_token(page.body), "next": "/api/users/"})
    check("DRF's /api-auth/login/ (field username): 302 to next with a sessionid",
          response.status == 302 and response.headers.get("Location") == "/api/users/" and client.cookie("sessionid"),
          f"{response.status} {response.headers.get('Location')}")
    whoami(client, "bob")

    if not NEW:
        client = Client(base)
        form_login(client, "carol", "carol-password", what="carol (no MFA on 0.51)")
        whoami(client, "carol")
        response = client.get(HEADLESS + "/config")
        check("0.51 has no headless API: GET /_allauth/browser/v1/config is Django's HTML 404", response.status == 404,
              f"{response.status}")


def check_form_mfa(base, used_code):
    print("-- two-factor login through the forms (allauth.mfa)")
    client = Client(base)
    response = form_login(client, "carol", "carol-password", expect_ok=False, what="carol")
    check("carol's password: 302 to /accounts/2fa/authenticate/ with a sessionid for the pending login",
          response.status == 302 and response.headers.get("Location") == "/accounts/2fa/authenticate/"
          and client.cookie("sessionid"), f"{response.status} {response.headers.get('Location')}")
    whoami(client, None)
    page = client.get("/accounts/2fa/authenticate/")
    token = hidden_token(page.body)
    check("GET /accounts/2fa/authenticate/ is 200: a form with code and csrfmiddlewaretoken",
          page.status == 200 and token and 'name="code"' in page.body, f"{page.status}")
    response = client.form("/accounts/2fa/authenticate/", {"code": "000000", "csrfmiddlewaretoken": token})
    check("a wrong code: 200, the form again with \"Incorrect code.\"",
          response.status == 200 and form_errors(response.body) == ["Incorrect code."], f"{response.status} {form_errors(response.body)}")
    if used_code and totp(CAROL_TOTP_SECRET) == used_code:
        response = client.form("/accounts/2fa/authenticate/", {"code": used_code, "csrfmiddlewaretoken": token})
        check("a code already used (by the headless login, same 30 s window): refused, \"Incorrect code.\"",
              response.status == 200 and form_errors(response.body) == ["Incorrect code."], f"{response.status}")
    next_totp_window(used_code)
    fresh_totp_window()
    code = totp(CAROL_TOTP_SECRET)
    before = client.cookie("sessionid")
    response = client.form("/accounts/2fa/authenticate/", {"code": code, "csrfmiddlewaretoken": token})
    check("the right code: 302 to /api/ with a new sessionid",
          response.status == 302 and response.headers.get("Location") == "/api/" and client.cookie("sessionid") != before,
          f"{response.status} {response.headers.get('Location')} {form_errors(response.body)}")
    whoami(client, "carol")
    form_logout(client)
    return code


# The headless API (new allauth only).

UNAUTHENTICATED = {"status": 401, "data": {"flows": [{"id": "login"}, {"id": "signup"}]},
                   "meta": {"is_authenticated": False}}


def check_headless(base):
    print("-- the headless API, browser client (/_allauth/browser/v1/)")
    client = Client(base)
    response = client.api("GET", HEADLESS + "/auth/session")
    check("GET auth/session without a session: 401 with flows login and signup (and the csrftoken cookie)",
          response.status == 401 and response.json() == UNAUTHENTICATED and client.cookie("csrftoken"), response.body)
    response = client.api("GET", HEADLESS + "/config")
    data = (response.json() or {}).get("data", {})
    check("GET config: 200, login_methods username and email, mfa supported_types totp and recovery_codes",
          response.status == 200 and sorted(data.get("account", {}).get("login_methods", [])) == ["email", "username"]
          and sorted(data.get("mfa", {}).get("supported_types", [])) == ["recovery_codes", "totp"], response.body)
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "alice", "password": "alice-password"}, csrf=False)
    check("POST auth/login without X-CSRFToken: Django's HTML 403 (CSRF)",
          response.status == 403 and "CSRF" in response.body and client.cookie("sessionid") is None, f"{response.status}")
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "alice", "password": "wrong"})
    check("POST auth/login, wrong password: 400 errors [username_password_mismatch on password]",
          response.status == 400 and response.json() == {"status": 400, "errors": [
              {"message": BAD_CREDENTIALS, "code": "username_password_mismatch", "param": "password"}]}, response.body)
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "alice", "password": "alice-password"})
    body = response.json() or {}
    user = body.get("data", {}).get("user", {})
    check("POST auth/login by username: 200, data.user.username alice, meta.is_authenticated, a sessionid",
          response.status == 200 and user.get("username") == "alice" and body.get("meta") == {"is_authenticated": True}
          and [m["method"] for m in body["data"].get("methods", [])] == ["password"] and client.cookie("sessionid"),
          response.body)
    response = client.api("GET", HEADLESS + "/auth/session")
    check("GET auth/session: 200, the same shape", response.status == 200
          and (response.json() or {}).get("data", {}).get("user", {}).get("username") == "alice", response.body)
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "alice", "password": "alice-password"})
    check("POST auth/login when signed in: 409 {\"status\": 409}",
          response.status == 409 and response.json() == {"status": 409}, response.body)
    whoami(client, "alice")
    old = client.cookie("sessionid")
    response = client.api("DELETE", HEADLESS + "/auth/session")
    check("DELETE auth/session: 401 (unauthenticated now) with flows, deleting the sessionid cookie",
          response.status == 401 and response.json() == UNAUTHENTICATED
          and any(c.startswith('sessionid="";') for c in response.set_cookies()), response.body)
    response = client.api("DELETE", HEADLESS + "/auth/session")
    check("DELETE auth/session again: 401 the same", response.status == 401 and response.json() == UNAUTHENTICATED,
          response.body)
    stale = Client(base)
    stale.set_session(old)
    response = stale.api("GET", HEADLESS + "/auth/session")
    check("the ended session: GET auth/session 401", response.status == 401 and response.json() == UNAUTHENTICATED,
          response.body)
    old_session_refused(base, old)

    client = Client(base)
    client.api("GET", HEADLESS + "/config")
    response = client.api("POST", HEADLESS + "/auth/login", {"email": "bob@example.com", "password": "bob-password"})
    check("POST auth/login by e-mail (field email): 200, data.user.username bob",
          response.status == 200 and (response.json() or {}).get("data", {}).get("user", {}).get("username") == "bob",
          response.body)
    whoami(client, "bob")
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "bob", "email": "bob@example.com",
                                                             "password": "bob-password"})
    check("POST auth/login with both username and email: 400 invalid_login (checked before the 409)",
          response.status == 400 and response.json() == {"status": 400, "errors": [
              {"message": "Invalid login.", "code": "invalid_login"}]}, response.body)
    client.api("DELETE", HEADLESS + "/auth/session")


def check_headless_mfa(base, recovery_codes):
    print("-- two-factor login through the headless API (allauth.mfa)")
    client = Client(base)
    client.api("GET", HEADLESS + "/config")
    response = client.api("POST", HEADLESS + "/auth/2fa/authenticate", {"code": "123456"})
    check("POST auth/2fa/authenticate with no pending login: 401 (meta.is_authenticated null)",
          response.status == 401 and (response.json() or {}).get("meta") == {"is_authenticated": None}, response.body)
    pending = {"status": 401, "data": {"flows": [{"id": "login"}, {"id": "signup"},
                                                {"id": "mfa_authenticate", "is_pending": True,
                                                 "types": ["recovery_codes", "totp"]}]},
               "meta": {"is_authenticated": False}}
    response = client.api("POST", HEADLESS + "/auth/login", {"username": "carol", "password": "carol-password"})
    check("POST auth/login as carol: 401 with the pending flow mfa_authenticate, types recovery_codes and totp",
          response.status == 401 and response.json() == pending and client.cookie("sessionid"), response.body)
    response = client.api("GET", HEADLESS + "/auth/session")
    check("GET auth/session while pending: 401, the same", response.status == 401 and response.json() == pending,
          response.body)
    whoami(client, None)
    response = client.api("POST", HEADLESS + "/auth/2fa/authenticate", {"code": "000000"})
    check("POST auth/2fa/authenticate, a wrong code: 400 incorrect_code on code",
          response.status == 400 and response.json() == {"status": 400, "errors": [
              {"message": "Incorrect code.", "code": "incorrect_code", "param": "code"}]}, response.body)
    fresh_totp_window()
    code = totp(CAROL_TOTP_SECRET)
    before = client.cookie("sessionid")
    response = client.api("POST", HEADLESS + "/auth/2fa/authenticate", {"code": code})
    body = response.json() or {}
    methods = [(m.get("method"), m.get("type")) for m in body.get("data", {}).get("methods", [])]
    check("POST auth/2fa/authenticate, the TOTP code: 200, user carol, methods password then mfa/totp, a new sessionid",
          response.status == 200 and body.get("data", {}).get("user", {}).get("username") == "carol"
          and methods == [("password", None), ("mfa", "totp")] and client.cookie("sessionid") != before, response.body)
    whoami(client, "carol")
    client.api("DELETE", HEADLESS + "/auth/session")
    whoami(client, None)

    if recovery_codes:
        client = Client(base)
        client.api("GET", HEADLESS + "/config")
        client.api("POST", HEADLESS + "/auth/login", {"email": "carol@example.com", "password": "carol-password"})
        response = client.api("POST", HEADLESS + "/auth/2fa/authenticate", {"code": recovery_codes[0]})
        body = response.json() or {}
        methods = [(m.get("method"), m.get("type")) for m in body.get("data", {}).get("methods", [])]
        check("a recovery code instead: 200, methods password then mfa/recovery_codes",
              response.status == 200 and methods == [("password", None), ("mfa", "recovery_codes")], response.body)
        client.api("DELETE", HEADLESS + "/auth/session")
    return code


def check_rate_limit(base):
    print("-- allauth's login rate limit (last: it counts failures per address too)")
    client = Client(base)
    seen = []
    for _ in range(6):
        if NEW:
            client.api("GET", HEADLESS + "/config")
            response = client.api("POST", HEADLESS + "/auth/login", {"username": "user05", "password": "wrong"})
            seen.append((response.status, [e.get("code") for e in (response.json() or {}).get("errors", [])]))
        else:
            token = hidden_token(client.get("/accounts/login/").body)
            response = client.form("/accounts/login/", {"login": "user05", "password": "wrong", "csrfmiddlewaretoken": token})
            seen.append((response.status, form_errors(response.body)))
    if NEW:
        expected = [(400, ["username_password_mismatch"])] * 5 + [(400, ["too_many_login_attempts"])]
    else:
        expected = [(200, [BAD_CREDENTIALS])] * 5 + [(200, [TOO_MANY])]
    check("5 wrong passwords for one user, then the sixth refused as too many (not 429)", seen == expected, f"{seen}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = dict(os.environ, ALLAUTH=RELEASE, ALLAUTH_SITE_DIR=folder)
    log = open(os.path.join(folder, "server.log"), "wb")
    # A session of its own, so that the whole group (run.sh and gunicorn) can be ended together.
    process = subprocess.Popen([os.path.join(HERE, "run.sh"), str(port), "1"], env=environment,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
    atexit.register(stop)
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            break
        try:
            if Client(base).get("/accounts/login/").status == 200:
                return base
        except OSError:
            time.sleep(0.3)
    stop()
    sys.stdout.write(open(os.path.join(folder, "server.log")).read())
    raise SystemExit("check.py: the allauth peer did not start")


def main():
    if RELEASE not in ("new", "0.51"):
        raise SystemExit(f"check.py: ALLAUTH must be new or 0.51, not {RELEASE!r}")
    recovery_codes = []
    if URLS:
        base = URLS[0].rstrip("/")
    else:
        folder = tempfile.mkdtemp(prefix="allauth-site-check-")
        atexit.register(shutil.rmtree, folder, True)
        base = start_server(folder)
        codes = os.path.join(folder, "carol-recovery-codes.txt")
        if os.path.exists(codes):
            recovery_codes = open(codes).read().split()
    print(f"allauth peer ({RELEASE}) at {base}")
    check_forms(base)
    if NEW:
        used = check_headless_mfa(base, recovery_codes)
        check_form_mfa(base, used)
        check_headless(base)
    check_rate_limit(base)
    print(f"{'FAILED: ' + str(len(failures)) if failures else 'all passed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
