#!/usr/bin/python3
"""check.py: plays the account flows of docs/accounts.md against the reference backend and says what differs.

    tests/django-backend/check.py                 Django 5.2 (install both releases first with install.sh)
    DJANGO=3.2 tests/django-backend/check.py      Debian 12's Django 3.2

Starts the backend (run.sh) four times on one SQLite file: verification optional, mandatory and none with
sign-up open, and the defaults (sign-up closed); e-mail goes to an SMTP server of its own (aiosmtpd, Debian's
python3-aiosmtpd). Every row of the contract and its failures, the full reset and verification flows with the
token and key from the e-mails, and the tokens themselves: minted here by Django in-process (same SECRET_KEY,
same database) they are accepted by the server, and the server's verify here. Exit status 1 when a check fails.
"""
import atexit
import email
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RELEASE = os.environ.get("DJANGO", "5.2")

if RELEASE == "5.2" and not os.environ.get("CHECK_DJANGO_PATH_SET"):
    # Import the same Django as the server does: 5.2 lives outside the system's Python (install.sh).
    marker = os.path.join(os.environ.get("POSTERN_DJANGO_CACHE", "/var/cache/postern/django-5.2"), "site-packages.path")
    site = open(marker).read().strip()
    environment = dict(os.environ, CHECK_DJANGO_PATH_SET="1",
                       PYTHONPATH=site + (":" + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, environment)

DATABASE_FOLDER = tempfile.mkdtemp(prefix="reference-backend-check-")
atexit.register(shutil.rmtree, DATABASE_FOLDER, True)
DATABASE = os.path.join(DATABASE_FOLDER, "db.sqlite3")
os.environ["DJANGO_BACKEND_DB"] = DATABASE
os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
sys.path.insert(0, HERE)

import django  # noqa: E402  (after the path and settings are chosen)
from aiosmtpd.controller import Controller  # noqa: E402

RESET_URL = "http://app.example/reset/{uid}/{token}"
VERIFY_URL = "http://app.example/verify/{key}"
REQUIRED = ["This field is required."]
NOT_A_STRING = ["Not a valid string."]
INVALID = ["Invalid value"]
MISMATCH = ["The two password fields didn\u2019t match."]
TOO_SHORT = "This password is too short. It must contain at least 8 characters."
TOO_COMMON = "This password is too common."
NUMERIC = "This password is entirely numeric."
BAD_EMAIL = ["Enter a valid email address."]
NOT_SIGNED_IN = {"detail": "Authentication credentials were not provided."}
GOOD_PASSWORD = "tr0ub4dor&3-staple"

failures = []
checks = 0


def check(what, condition, detail=""):
    global checks
    checks += 1
    if not condition:
        failures.append(f"{what}: {detail}")
        print(f"  FAIL {what}: {detail}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def take(self, to, expect=1):
        """The messages sent to `to` (in any case: Django lowercases the domain) since the last take, waiting a
        little for `expect` of them."""
        def for_them(message):
            return message["To"].lower() == to.lower()
        deadline = time.time() + (5 if expect else 0.5)
        while time.time() < deadline and len([m for m in self.messages if for_them(m)]) < max(expect, 1):
            time.sleep(0.05)
        taken = [m for m in self.messages if for_them(m)]
        self.messages = [m for m in self.messages if not for_them(m)]
        return taken


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return "(not JSON: %r)" % self.body[:80]


class Client:
    """A browser-like client: its own cookies, the CSRF cookie echoed in X-CSRFToken."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name):
        return next((c.value for c in self.jar if c.name == name), None)

    def send(self, method, path, json_body=None, form=None, raw=None, content_type=None, csrf=True):
        data, headers = None, {}
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif raw is not None:
            data, headers["Content-Type"] = raw.encode(), content_type or "application/json"
        if csrf and self.cookie("csrftoken"):
            headers["X-CSRFToken"] = self.cookie("csrftoken")
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Response(response.status, response.headers, response.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.headers, error.read().decode())

    def csrf(self):
        return self.send("GET", "/auth/csrf")

    def login(self, username, password):
        return self.send("POST", "/auth/login", {"username": username, "password": password})

    def signed_in(self, username, password):
        self.csrf()
        response = self.login(username, password)
        check(f"{username} logs in", response.status == 200, f"{response.status} {response.body}")
        return self


class _JustOpenedWindow(int):
    """Equals what GET /auth/user says of a reauthentication window opened moments ago: 300 seconds, or a few less."""

    def __eq__(self, other):
        return isinstance(other, int) and 290 <= other <= 300

    __hash__ = int.__hash__


REAUTHENTICATION_JUST_OPENED = _JustOpenedWindow(300)


def expect(what, response, status, body=None):
    """The response has this status and, when given, this JSON body (key order included) or "html"/"empty"."""
    problem = ""
    if response.status != status:
        problem = f"status {response.status}, expected {status}"
    elif body == "html":
        problem = "" if response.headers.get_content_type() == "text/html" else "not HTML"
    elif body == "empty":
        problem = "" if response.body == "" else f"body {response.body[:100]!r}"
    elif body is not None:
        actual = response.json()
        if actual != body or list(actual) != list(body):
            problem = f"body {json.dumps(actual)[:300]}, expected {json.dumps(body)}"
    check(what, not problem, problem + ("" if response.status == status else f" ({response.body[:200]})"))
    return response


class Server:
    """run.sh on a free port with these DJANGO_BACKEND_* settings, sending mail to the mailbox."""

    def __init__(self, mailbox, **settings):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ, DJANGO=RELEASE, DJANGO_BACKEND_SMTP_PORT=str(mailbox.port),
                           DJANGO_BACKEND_PASSWORD_RESET_URL=RESET_URL, DJANGO_BACKEND_EMAIL_VERIFY_URL=VERIFY_URL,
                           **{"DJANGO_BACKEND_" + name: value for name, value in settings.items()})
        self.log = tempfile.TemporaryFile()
        # A session of its own, so that stop() ends run.sh and gunicorn together, whatever happens here.
        self.process = subprocess.Popen([os.path.join(HERE, "run.sh"), str(self.port), "1"], env=environment,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        atexit.register(self.stop)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if Client(self.base).csrf().status == 200:
                    return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise SystemExit("the backend did not start")

    def client(self):
        return Client(self.base)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait()


def link_in(message, pattern):
    body = message.get_payload(decode=True).decode()
    match = re.search(pattern, body)
    check("the e-mail holds the link", match is not None, body)
    return match.groups() if match else (None,) * re.compile(pattern).groups


# Django in-process, over the server's database and with its SECRET_KEY: mints what the server must accept.

def user(username):
    from django.contrib.auth.models import User
    return User.objects.get(username=username)


def minted_token(username, seconds_ago=0):
    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    class Then(PasswordResetTokenGenerator):
        def _now(self):  # the generator's clock, the seam Django's own tests use
            return super()._now() - django.utils.timezone.timedelta(seconds=seconds_ago)

    return Then().make_token(user(username))


def minted_key(user_id, address, seconds_ago=0):
    from django.core import signing

    if hasattr(signing, "b62_encode"):
        b62_encode = signing.b62_encode
    else:  # Django 3.2
        from django.utils.baseconv import base62
        b62_encode = base62.encode

    class Then(signing.TimestampSigner):
        def timestamp(self):
            return b62_encode(int(time.time()) - seconds_ago)

    return Then(salt="postern.accounts.email-verification").sign_object([user_id, address])


def uid_of(username):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode
    return urlsafe_base64_encode(force_bytes(user(username).pk))


def make_user(username, password=GOOD_PASSWORD, **fields):
    from django.contrib.auth.models import User
    return User.objects.create_user(username, fields.pop("email", f"{username}@example.org"), password, **fields)


# The flows.

def common_conventions(server):
    print("conventions: methods, CSRF, bodies, anonymous")
    anonymous = server.client()
    anonymous.csrf()
    for path in ("/auth/password/change", "/auth/password/reset", "/auth/password/reset/confirm", "/auth/signup",
                 "/auth/email/verify", "/auth/email/verify/resend"):
        for slash in ("", "/"):
            get = expect(f"GET {path}{slash} is 405", anonymous.send("GET", path + slash), 405, "empty")
            check(f"GET {path}{slash} allows POST", get.headers.get("Allow") == "POST", get.headers.get("Allow"))
            expect(f"PUT {path}{slash} without a token is a CSRF failure",
                   anonymous.send("PUT", path + slash, {}, csrf=False), 403, "html")
            expect(f"PUT {path}{slash} with the token is 405", anonymous.send("PUT", path + slash, {}), 405, "empty")
            expect(f"POST {path}{slash} without a token is a CSRF failure",
                   anonymous.send("POST", path + slash, {}, csrf=False), 403, "html")
        if path == "/auth/password/change":
            expect("change: malformed JSON, anonymous", anonymous.send("POST", path, raw="{"), 403, NOT_SIGNED_IN)
            continue
        expect(f"{path}: malformed JSON", anonymous.send("POST", path, raw='{"x": '), 400,
               {"detail": "Malformed request body."})
        expect(f"{path}: a JSON list", anonymous.send("POST", path, raw='["x"]'), 400, {"detail": "Malformed request body."})
        expect(f"{path}: JSON null", anonymous.send("POST", path, raw="null"), 400, {"detail": "Malformed request body."})
    user_get = expect("HEAD /auth/user is 405", anonymous.send("HEAD", "/auth/user"), 405)
    check("/auth/user allows GET, PATCH", user_get.headers.get("Allow") == "GET, PATCH", user_get.headers.get("Allow"))
    expect("GET /auth/user anonymous", anonymous.send("GET", "/auth/user"), 403, NOT_SIGNED_IN)
    expect("PATCH /auth/user anonymous", anonymous.send("PATCH", "/auth/user", {"first_name": "x"}), 403, NOT_SIGNED_IN)
    expect("PATCH /auth/user without a token", anonymous.send("PATCH", "/auth/user", {}, csrf=False), 403, "html")
    expect("change anonymous", anonymous.send("POST", "/auth/password/change", {}), 403, NOT_SIGNED_IN)
    expect("set_password anonymous", anonymous.send("POST", "/api/users/2/set_password/", {"password": "x"}), 403,
           NOT_SIGNED_IN)


def user_profile(server, mailbox):
    print("GET/PATCH /auth/user")
    make_user("paula", first_name="Paula")
    paula = server.client().signed_in("paula", GOOD_PASSWORD)
    me = expect("GET /auth/user", paula.send("GET", "/auth/user"), 200, {
        "url": f"{server.base}/api/users/{user('paula').pk}/", "username": "paula", "email": "paula@example.org",
        "first_name": "Paula", "last_name": "", "is_staff": False, "email_verified": False,
        "reauthentication_seconds_left": REAUTHENTICATION_JUST_OPENED}).json()
    expect("PATCH: first_name too long", paula.send("PATCH", "/auth/user", {"first_name": "x" * 151}), 400,
           {"first_name": ["Ensure this value has at most 150 characters (it has 151)."]})
    expect("PATCH: a bad address and a number for a name",
           paula.send("PATCH", "/auth/user", {"last_name": 5, "email": "not-an-address"}), 400,
           {"email": BAD_EMAIL, "last_name": NOT_A_STRING})
    expect("PATCH: nothing changed by a refusal", paula.send("GET", "/auth/user"), 200, me)
    changed = expect("PATCH: names; username and is_staff ignored",
                     paula.send("PATCH", "/auth/user", {"last_name": "Pé", "username": "x", "is_staff": True}), 200,
                     {**me, "last_name": "Pé"}).json()
    check("PATCH sends no e-mail when the address stays", not mailbox.take("paula@example.org", expect=0))
    expect("PATCH as a form", paula.send("PATCH", "/auth/user", form={"first_name": "P."}), 200,
           {**changed, "first_name": "P."})
    expect("PATCH as multipart", paula.send("PATCH", "/auth/user", raw=(
        '--b\r\nContent-Disposition: form-data; name="first_name"\r\n\r\nPaula\r\n--b--\r\n'),
        content_type="multipart/form-data; boundary=b"), 200, {**changed, "first_name": "Paula"})
    # Her own address, verified with the e-mailed key; then a new one, unverified again.
    paula.send("POST", "/auth/email/verify/resend", {"email": "PAULA@example.org"})
    (key,) = link_in(mailbox.take("paula@example.org")[0], r"http://app\.example/verify/(\S+)")
    expect("verify paula's address", paula.send("POST", "/auth/email/verify", {"key": key}), 200,
           {"detail": "E-mail address verified."})
    check("verified", paula.send("GET", "/auth/user").json().get("email_verified") is True)
    new = expect("PATCH: a new address", paula.send("PATCH", "/auth/user", {"email": "paula@new.example"}), 200).json()
    check("a new address is unverified", new.get("email_verified") is False, new)
    check("a new address gets a verification e-mail", len(mailbox.take("paula@new.example")) == 1)
    expect("the old address's key is dead", paula.send("POST", "/auth/email/verify", {"key": key}), 400, {"key": INVALID})
    expect("PATCH back to the old address", paula.send("PATCH", "/auth/user", {"email": "paula@example.org"}), 200)
    check("an address verified before must be verified again",
          paula.send("GET", "/auth/user").json().get("email_verified") is False)
    mailbox.take("paula@example.org")


def signup_optional(server, mailbox):
    print("sign-up (verification optional) and e-mail verification")
    visitor = server.client()
    visitor.csrf()
    signup = lambda body: visitor.send("POST", "/auth/signup", body)  # noqa: E731
    expect("sign-up: nothing", signup({}), 400, {name: REQUIRED for name in ("username", "email", "password1", "password2")})
    expect("sign-up: null, empty, blank", signup({"username": None, "email": "", "password1": None, "password2": ""}),
           400, {name: REQUIRED for name in ("username", "email", "password1", "password2")})
    expect("sign-up: wrong types", signup({"username": 5, "email": True, "password1": [], "password2": {}}), 400,
           {name: NOT_A_STRING for name in ("username", "email", "password1", "password2")})
    expect("sign-up: bad username, bad address, mismatch",
           signup({"username": "bad name!", "email": "nope", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"}),
           400, {"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ "
                              "characters."], "email": BAD_EMAIL, "password2": MISMATCH})
    expect("sign-up: username and address too long",
           signup({"username": "u" * 151, "email": "a" * 250 + "@example.org", "password1": GOOD_PASSWORD,
                   "password2": GOOD_PASSWORD}), 400,
           {"username": ["Ensure this value has at most 150 characters (it has 151)."],
            "email": ["Ensure this value has at most 254 characters (it has 262)."]})
    expect("sign-up: the username is taken", signup({"username": "alice", "email": "a@example.org",
                                                      "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}),
           400, {"username": ["A user with that username already exists."]})
    if RELEASE == "5.2":  # Django 3.2's UserCreationForm compares usernames case-sensitively
        expect("sign-up: the username is taken in another case",
               signup({"username": "ALICE", "email": "a@example.org", "password1": GOOD_PASSWORD,
                       "password2": GOOD_PASSWORD}), 400, {"username": ["A user with that username already exists."]})
    for password, messages in (
            ("johnsmith1", ["The password is too similar to the username."]),
            ("zebracorn@mail", ["The password is too similar to the email address."]),
            ("xY7#qz", [TOO_SHORT]),
            ("qwertyuiop", [TOO_COMMON]),
            ("40723981556", [NUMERIC]),
            ("1234", [TOO_SHORT, TOO_COMMON, NUMERIC])):
        expect(f"sign-up: the validators on {password!r}",
               signup({"username": "johnsmith", "email": "zebracorn@mail.example", "password1": password,
                       "password2": password}), 400, {"password2": messages})
    from django.contrib.auth.models import User
    check("no refused sign-up made a user", not User.objects.filter(username__in=["johnsmith", "bad name!"]).exists())
    check("no refused sign-up sent e-mail", not mailbox.take("zebracorn@mail.example", expect=0))

    csrf_before = visitor.cookie("csrftoken")
    created = expect("sign-up", signup({"username": "sam", "email": "sam@example.org", "password1": GOOD_PASSWORD,
                                        "password2": GOOD_PASSWORD}), 201).json()
    expect("sign-up answers the user", Response(201, None, json.dumps(created)), 201, {
        "url": f"{server.base}/api/users/{user('sam').pk}/", "username": "sam", "email": "sam@example.org",
        "first_name": "", "last_name": "", "is_staff": False, "email_verified": False,
        "reauthentication_seconds_left": REAUTHENTICATION_JUST_OPENED})
    check("sign-up signs in with a rotated CSRF secret", visitor.cookie("sessionid") and
          visitor.cookie("csrftoken") != csrf_before)
    expect("signed in after sign-up", visitor.send("GET", "/auth/user"), 200, created)
    sent = mailbox.take("sam@example.org")
    check("one verification e-mail", len(sent) == 1, len(sent))
    (key,) = link_in(sent[0], r"http://app\.example/verify/(\S+)")

    # Keys: the e-mailed one, one minted here, expired, tampered, for another address.
    from django.core import signing
    check("the e-mailed key is Django's signing of [id, address]",
          signing.loads(key, salt="postern.accounts.email-verification") == [user("sam").pk, "sam@example.org"])
    anyone = server.client()
    anyone.csrf()
    verify = lambda body: anyone.send("POST", "/auth/email/verify", body)  # noqa: E731
    expect("verify: no key", verify({}), 400, {"key": REQUIRED})
    expect("verify: a number", verify({"key": 5}), 400, {"key": NOT_A_STRING})
    expect("verify: tampered", verify({"key": key[:-1] + ("A" if key[-1] != "A" else "B")}), 400, {"key": INVALID})
    expect("verify: another salt", verify({"key": signing.dumps([user("sam").pk, "sam@example.org"])}), 400,
           {"key": INVALID})
    expect("verify: expired", verify({"key": minted_key(user("sam").pk, "sam@example.org", seconds_ago=259201)}),
           400, {"key": INVALID})
    expect("verify: an address that is not the user's",
           verify({"key": minted_key(user("sam").pk, "other@example.org")}), 400, {"key": INVALID})
    expect("verify: huge", verify({"key": "x" * 100000}), 400, {"key": INVALID})
    check("still unverified", visitor.send("GET", "/auth/user").json().get("email_verified") is False)
    expect("verify: the e-mailed key, anonymous", verify({"key": key}), 200, {"detail": "E-mail address verified."})
    expect("verify: again", verify({"key": key}), 200, {"detail": "E-mail address verified."})
    expect("verify: a key minted here (nearly expired)",
           verify({"key": minted_key(user("sam").pk, "sam@example.org", seconds_ago=259000)}), 200)
    expect("verify as a form", anyone.send("POST", "/auth/email/verify/", form={"key": key}), 200)
    check("verified", visitor.send("GET", "/auth/user").json().get("email_verified") is True)

    print("resend")
    resend = lambda body: anyone.send("POST", "/auth/email/verify/resend", body)  # noqa: E731
    sent_detail = {"detail": "Verification e-mail sent."}
    expect("resend: no address", resend({}), 400, {"email": REQUIRED})
    expect("resend: not an address", resend({"email": "x"}), 400, {"email": BAD_EMAIL})
    expect("resend: too long", resend({"email": "a" * 250 + "@example.org"}), 400,
           {"email": ["Ensure this value has at most 254 characters (it has 262)."]})
    expect("resend: a list", resend({"email": ["sam@example.org"]}), 400, {"email": NOT_A_STRING})
    expect("resend: nobody's", resend({"email": "nobody@example.org"}), 200, sent_detail)
    expect("resend: verified", resend({"email": "sam@example.org"}), 200, sent_detail)
    check("no e-mail for a verified address", not mailbox.take("sam@example.org", expect=0))
    make_user("tess", email="Tess@Example.org")
    make_user("tessa", email="tess@example.org")
    make_user("tess-gone", email="tess@example.org", is_active=False)
    expect("resend: unverified, other case", resend({"email": "TESS@example.ORG"}), 200, sent_detail)
    check("one e-mail to each active user with the address", sorted(m["To"] for m in mailbox.take(
        "tess@example.org", expect=2)) == ["Tess@example.org", "tess@example.org"])


def password_change(server):
    print("password change")
    make_user("carl")
    carl = server.client().signed_in("carl", GOOD_PASSWORD)
    elsewhere = server.client().signed_in("carl", GOOD_PASSWORD)
    change = lambda body: carl.send("POST", "/auth/password/change", body)  # noqa: E731
    names = ("old_password", "new_password1", "new_password2")
    expect("change: nothing", change({}), 400, {name: REQUIRED for name in names})
    expect("change: wrong types", change({"old_password": 1, "new_password1": None, "new_password2": False}), 400,
           {"old_password": NOT_A_STRING, "new_password1": REQUIRED, "new_password2": NOT_A_STRING})
    expect("change: wrong old password", change({"old_password": "nope", "new_password1": "n3w-Passw0rd!",
                                                 "new_password2": "n3w-Passw0rd!"}), 400,
           {"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
    expect("change: mismatch", change({"old_password": GOOD_PASSWORD, "new_password1": "n3w-Passw0rd!",
                                       "new_password2": "n3w-Passw0rd?"}), 400, {"new_password2": MISMATCH})
    expect("change: validators (username)", change({"old_password": GOOD_PASSWORD, "new_password1": "carl",
                                                    "new_password2": "carl"}), 400,
           {"new_password2": ["The password is too similar to the username.", TOO_SHORT, TOO_COMMON]})
    expect("change: everything wrong", change({"old_password": "x", "new_password1": "1", "new_password2": "2"}), 400,
           {"old_password": ["Your old password was entered incorrectly. Please enter it again."],
            "new_password2": MISMATCH})
    expect("change: a form with the token in it", carl.send("POST", "/auth/password/change", form={
        "old_password": "x", "csrfmiddlewaretoken": carl.cookie("csrftoken")}, csrf=False), 400,
        {"old_password": ["Your old password was entered incorrectly. Please enter it again."],
         "new_password1": REQUIRED, "new_password2": REQUIRED})
    expect("refusals changed nothing", server.client().signed_in("carl", GOOD_PASSWORD).send("GET", "/auth/user"), 200)
    session, csrf = carl.cookie("sessionid"), carl.cookie("csrftoken")
    expect("change", change({"old_password": GOOD_PASSWORD, "new_password1": "n3w-Passw0rd!",
                             "new_password2": "n3w-Passw0rd!"}), 200, {"detail": "New password has been saved."})
    check("a new session key", carl.cookie("sessionid") not in (None, session))
    check("a rotated CSRF secret", carl.cookie("csrftoken") not in (None, csrf))
    expect("this session stays signed in", carl.send("GET", "/auth/user"), 200)
    expect("the other session has ended", elsewhere.send("GET", "/auth/user"), 403, NOT_SIGNED_IN)
    fresh = server.client()
    fresh.csrf()
    expect("the old password is dead", fresh.login("carl", GOOD_PASSWORD), 401)
    expect("the new password works", fresh.login("carl", "n3w-Passw0rd!"), 200)


def password_reset(server, mailbox):
    print("password reset and confirm")
    make_user("rita", email="Rita@Example.org")
    make_user("rita-no-password", email="rita@example.org", password=None)
    make_user("rita-inactive", email="rita@example.org", is_active=False)
    rita = server.client().signed_in("rita", GOOD_PASSWORD)
    anyone = server.client()
    anyone.csrf()
    reset = lambda body: anyone.send("POST", "/auth/password/reset", body)  # noqa: E731
    sent = {"detail": "Password reset e-mail has been sent."}
    expect("reset: nothing", reset({}), 400, {"email": REQUIRED})
    expect("reset: empty", reset({"email": ""}), 400, {"email": REQUIRED})
    expect("reset: a number", reset({"email": 5}), 400, {"email": NOT_A_STRING})
    expect("reset: not an address", reset({"email": "rita"}), 400, {"email": BAD_EMAIL})
    expect("reset: too long", reset({"email": "a" * 250 + "@example.org"}), 400,
           {"email": ["Ensure this value has at most 254 characters (it has 262)."]})
    expect("reset: nobody's address", reset({"email": "nobody@example.org"}), 200, sent)
    expect("reset: rita's, in another case, as a form", anyone.send("POST", "/auth/password/reset/",
                                                                     form={"email": "RITA@example.org"}), 200, sent)
    mails = mailbox.take("Rita@Example.org")
    check("one e-mail, to the active user with a usable password", len(mails) == 1, len(mails))
    uid, token = link_in(mails[0], r"http://app\.example/reset/([^/\s]+)/([^/\s]+)")
    from django.contrib.auth.tokens import default_token_generator
    check("the e-mailed token is Django's for rita", default_token_generator.check_token(user("rita"), token))
    check("the e-mailed uid is rita's", uid == uid_of("rita"), uid)

    confirm = lambda body: anyone.send("POST", "/auth/password/reset/confirm", body)  # noqa: E731
    new = "n3w-Passw0rd!"
    good = {"uid": uid, "token": token, "new_password1": new, "new_password2": new}
    expect("confirm: nothing", confirm({}), 400,
           {name: REQUIRED for name in ("uid", "token", "new_password1", "new_password2")})
    expect("confirm: one missing, one a number, a bad uid", confirm({**good, "uid": "!!", "token": 5,
                                                                     "new_password1": None}), 400,
           {"token": NOT_A_STRING, "new_password1": REQUIRED})
    for bad in ("!!", "", "x" * 10000, "YWJj", "MA", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "OTk5OTk"):
        if bad:
            expect(f"confirm: uid {bad[:12]!r}", confirm({**good, "uid": bad, "token": "bad"}), 400, {"uid": INVALID})
    expect("confirm: the uid before the token and the passwords",
           confirm({**good, "uid": "YWJj", "token": "x", "new_password2": "y"}), 400, {"uid": INVALID})
    expect("confirm: the token before the passwords", confirm({**good, "token": "x", "new_password2": "y"}), 400,
           {"token": INVALID})
    expect("confirm: another user's token", confirm({**good, "uid": uid_of("alice")}), 400, {"token": INVALID})
    expect("confirm: expired", confirm({**good, "token": minted_token("rita", seconds_ago=259201)}), 400,
           {"token": INVALID})
    expect("confirm: huge token", confirm({**good, "token": "1-" + "a" * 100000}), 400, {"token": INVALID})
    expect("confirm: mismatch", confirm({**good, "new_password2": new + "x"}), 400, {"new_password2": MISMATCH})
    expect("confirm: validators", confirm({**good, "new_password1": "12345", "new_password2": "12345"}), 400,
           {"new_password2": [TOO_SHORT, TOO_COMMON, NUMERIC]})
    expect("confirm: validators (the address)", confirm({**good, "new_password1": "Rita@Example", "new_password2":
                                                         "Rita@Example"}), 400,
           {"new_password2": ["The password is too similar to the email address."]})
    expect("refusals changed nothing", rita.send("GET", "/auth/user"), 200)
    expect("confirm: a token minted here (nearly expired)",
           confirm({**good, "token": minted_token("rita", seconds_ago=259000)}), 200,
           {"detail": "Password has been reset with the new password."})
    expect("every session of the user has ended", rita.send("GET", "/auth/user"), 403, NOT_SIGNED_IN)
    expect("the e-mailed token is spent by the new password", confirm({**good, "new_password1": new + "2",
                                                                        "new_password2": new + "2"}), 400,
           {"token": INVALID})
    fresh = server.client()
    fresh.csrf()
    expect("the new password works", fresh.login("rita", new), 200)

    # A token is spent by a login too; the e-mailed one is replayed after use.
    anyone.send("POST", "/auth/password/reset", {"email": "rita@example.org"})
    uid, token = link_in(mailbox.take("Rita@Example.org")[0], r"http://app\.example/reset/([^/\s]+)/([^/\s]+)")
    time.sleep(1.1)  # the token holds the last login to the second
    expect("rita logs in again", server.client().signed_in("rita", new).send("GET", "/auth/user"), 200)
    expect("confirm: spent by a login", confirm({**good, "uid": uid, "token": token}), 400, {"token": INVALID})
    anyone.send("POST", "/auth/password/reset", {"email": "rita@example.org"})
    uid, token = link_in(mailbox.take("Rita@Example.org")[0], r"http://app\.example/reset/([^/\s]+)/([^/\s]+)")
    expect("confirm: the e-mailed token as a form", anyone.send("POST", "/auth/password/reset/confirm/", form={
        "uid": uid, "token": token, "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}), 200)
    expect("confirm: replayed", confirm({"uid": uid, "token": token, "new_password1": new, "new_password2": new}), 400,
           {"token": INVALID})


def staff_api(server):
    print("/api/users/: set_password, the account flags")
    make_user("sue", is_staff=True, is_superuser=True)
    alice = server.client().signed_in("alice", "alice-password")
    bob = server.client().signed_in("bob", "bob-password")
    sue = server.client().signed_in("sue", GOOD_PASSWORD)
    make_user("victor")
    victor_path = f"/api/users/{user('victor').pk}/"
    victor_session = server.client().signed_in("victor", GOOD_PASSWORD)
    set_password = lambda client, body, path=victor_path: client.send("POST", path + "set_password/", body)  # noqa: E731
    expect("set_password: not staff", set_password(bob, {"password": GOOD_PASSWORD}), 403,
           {"detail": "You do not have permission to perform this action."})
    expect("set_password: not staff, no such user", set_password(bob, {"password": "x"}, "/api/users/99999/"), 403)
    expect("set_password: no such user", set_password(alice, {"password": GOOD_PASSWORD}, "/api/users/99999/"), 404)
    expect("set_password: nothing", set_password(alice, {}), 400, {"password": REQUIRED})
    expect("set_password: empty", set_password(alice, {"password": ""}), 400, {"password": REQUIRED})
    expect("set_password: a number", set_password(alice, {"password": 12345678}), 400, {"password": NOT_A_STRING})
    expect("set_password: malformed", alice.send("POST", victor_path + "set_password/", raw="{"), 400,
           {"detail": "Malformed request body."})
    expect("set_password: a list", alice.send("POST", victor_path + "set_password/", raw="[]"), 400,
           {"detail": "Malformed request body."})
    expect("set_password: validators", set_password(alice, {"password": "victor"}), 400,
           {"password": ["The password is too similar to the username.", TOO_SHORT, TOO_COMMON]})
    expect("set_password: without the token", alice.send("POST", victor_path + "set_password/", {"password": "x"},
                                                         csrf=False), 403)
    expect("set_password: GET", alice.send("GET", victor_path + "set_password/"), 405)
    expect("refusals changed nothing", victor_session.send("GET", "/auth/user"), 200)
    expect("set_password", set_password(alice, {"password": "an0ther-Passw0rd"}), 200, {"status": "password set"})
    expect("set_password as a form", alice.send("POST", victor_path + "set_password/",
                                                form={"password": "an0ther-Passw0rd"}), 200, {"status": "password set"})
    expect("the user's sessions have ended", victor_session.send("GET", "/auth/user"), 403, NOT_SIGNED_IN)
    fresh = server.client()
    fresh.csrf()
    expect("the new password works", fresh.login("victor", "an0ther-Passw0rd"), 200)
    sue_elsewhere = server.client().signed_in("sue", GOOD_PASSWORD)
    expect("staff set their own", set_password(sue, {"password": "an0ther-Passw0rd"},
                                               f"/api/users/{user('sue').pk}/"), 200)
    expect("and stay signed in", sue.send("GET", "/auth/user"), 200)
    expect("their other sessions end", sue_elsewhere.send("GET", "/auth/user"), 403)

    bob_view = bob.send("GET", victor_path).json()
    check("non-staff see url, username, email, groups", list(bob_view) == ["url", "username", "email", "groups"], bob_view)
    alice_view = alice.send("GET", victor_path).json()
    check("staff also see the flags", list(alice_view) == ["url", "username", "email", "groups", "is_active", "is_staff",
                                                           "is_superuser"], alice_view)
    expect("staff cannot change the flags (ignored)", alice.send("PATCH", victor_path, {"is_staff": True,
                                                                                      "first_name": "x"}), 200,
           {**alice_view})
    expect("superusers can", sue.send("PATCH", victor_path, {"is_staff": True}), 200, {**alice_view, "is_staff": True})
    expect("staff's address change counts as verified", alice.send("PATCH", victor_path, {"email": "v@new.example"}),
           200)
    from accounts import verification
    check("verified", verification.is_verified(user("victor")))


def mandatory(server, mailbox):
    print("verification mandatory")
    visitor = server.client()
    visitor.csrf()
    created = expect("sign-up", visitor.send("POST", "/auth/signup", {
        "username": "mona", "email": "mona@example.org", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}), 201).json()
    check("not signed in", visitor.cookie("sessionid") is None)
    check("unverified", created.get("email_verified") is False, created)
    expect("not signed in", visitor.send("GET", "/auth/user"), 403)
    (key,) = link_in(mailbox.take("mona@example.org")[0], r"http://app\.example/verify/(\S+)")
    expect("a correct login is refused", visitor.login("mona", GOOD_PASSWORD), 403, {"detail": "E-mail is not verified."})
    expect("a wrong password is still 401", visitor.login("mona", "wrong"), 401)
    check("refused login made no session", visitor.cookie("sessionid") is None)
    expect("verify", visitor.send("POST", "/auth/email/verify", {"key": key}), 200)
    expect("then the login works", visitor.login("mona", GOOD_PASSWORD), 200)
    expect("seeded users count as verified", server.client().signed_in("alice", "alice-password").send(
        "GET", "/auth/user"), 200)


def verification_none(server, mailbox):
    print("verification none")
    visitor = server.client()
    visitor.csrf()
    expect("sign-up", visitor.send("POST", "/auth/signup", {
        "username": "nina", "email": "nina@example.org", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}), 201)
    expect("signed in", visitor.send("GET", "/auth/user"), 200)
    expect("PATCH a new address", visitor.send("PATCH", "/auth/user", {"email": "nina@new.example"}), 200)
    check("no verification e-mail", not mailbox.take("nina@example.org", expect=0)
          and not mailbox.take("nina@new.example", expect=0))


def signup_closed(server):
    print("defaults: sign-up closed")
    visitor = server.client()
    visitor.csrf()
    expect("sign-up is closed", visitor.send("POST", "/auth/signup", {
        "username": "oscar", "email": "oscar@example.org", "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}), 403,
        {"detail": "Sign-up is closed."})


def main():
    print(f"Django {RELEASE}")
    mailbox = Mailbox()
    runs = [
        ({"SIGNUP_ENABLED": "1"}, lambda s: (common_conventions(s), user_profile(s, mailbox), signup_optional(s, mailbox),
                                             password_change(s), password_reset(s, mailbox), staff_api(s))),
        ({"SIGNUP_ENABLED": "1", "EMAIL_VERIFICATION": "mandatory"}, lambda s: mandatory(s, mailbox)),
        ({"SIGNUP_ENABLED": "1", "EMAIL_VERIFICATION": "none"}, lambda s: verification_none(s, mailbox)),
        ({}, signup_closed),
    ]
    for number, (settings, play) in enumerate(runs):
        server = Server(mailbox, **settings)
        try:
            if number == 0:
                django.setup()  # once run.sh has migrated the database
            play(server)
        finally:
            server.stop()
    mailbox.controller.stop()
    print(f"{checks} checks, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
