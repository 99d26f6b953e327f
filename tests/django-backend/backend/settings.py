"""Settings of the Django reference backend: the plain Django + DRF backend of the frontend guide.

Everything that matters for the protocol is Django's default; the environment changes only what a
deployment would change:
  DJANGO_BACKEND_DB               the database: a SQLite file (default: ./reference-backend.sqlite3), or a PostgreSQL
                                  URL, postgres://USER[:PASSWORD]@HOST[:PORT]/NAME (Debian's python3-psycopg2)
  DJANGO_BACKEND_CONN_MAX_AGE     CONN_MAX_AGE in seconds (default 0: a connection per request, Django's default)
  DJANGO_BACKEND_REDIS_URL        redis://HOST:PORT/DB: Django's own RedisCache as the default cache (Django 4.0+,
                                  so 5.2 only; Debian's python3-redis)
  DJANGO_BACKEND_SESSION_ENGINE   db (default), cached_db or cache: django.contrib.sessions.backends.<this>
  DJANGO_BACKEND_SECRET_KEY       SECRET_KEY (default: a fixed key, for tests only)
  DJANGO_BACKEND_CUSTOM_USER=1    AUTH_USER_MODEL = "customuser.User", a project's own user model (set before migrating)
  DJANGO_BACKEND_HTTPS=1          served behind a TLS proxy that sets X-Forwarded-Proto: secure
                                  cookies, and Django's strict Referer checks on HTTPS
  DJANGO_BACKEND_TRUSTED_ORIGINS  comma-separated CSRF_TRUSTED_ORIGINS (with scheme)
The account flows (docs/accounts.md):
  DJANGO_BACKEND_SIGNUP_ENABLED=1           POST /auth/signup is open (closed by default)
  DJANGO_BACKEND_EMAIL_VERIFICATION         none, optional (default) or mandatory (allauth's names)
  DJANGO_BACKEND_PASSWORD_RESET_URL         the reset e-mail's link, {uid} and {token} filled in
  DJANGO_BACKEND_EMAIL_VERIFY_URL           the verification e-mail's link, {key} filled in
  DJANGO_BACKEND_PASSWORD_RESET_TIMEOUT     PASSWORD_RESET_TIMEOUT in seconds (default 259200)
  DJANGO_BACKEND_EMAIL_VERIFICATION_TIMEOUT a verification key's lifetime in seconds (default 259200)
  DJANGO_BACKEND_SMTP_PORT                  send e-mail by SMTP to 127.0.0.1:PORT (default: write it to stdout)
  DJANGO_BACKEND_DEFAULT_FROM_EMAIL         DEFAULT_FROM_EMAIL
"""
import os
from urllib.parse import unquote, urlsplit

import django
from django.core.exceptions import ImproperlyConfigured


def _env(name, default=""):
    return os.environ.get("DJANGO_BACKEND_" + name, default)


SECRET_KEY = _env("SECRET_KEY", "reference-backend-key-for-tests-only-do-not-deploy-8c1f")
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    # DRF's tokens, as many projects have them (their table, authtoken_token; not an authentication class here): what
    # Postern beside Django accepts as its own API tokens (docs/deployment.md#beside-a-running-django-project).
    "rest_framework.authtoken",
    "accounts",
]
# A project's own user model instead of auth.User (customuser/): its table customuser_user, its groups customuser_user_groups.
if _env("CUSTOM_USER") == "1":
    INSTALLED_APPS.append("customuser")
    AUTH_USER_MODEL = "customuser.User"

# Django's stock order: sessions before CSRF, CSRF before authentication.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
# The frontend guide's paths have no trailing slash; a redirect would turn a POST into a GET.
APPEND_SLASH = False


def _database(value):
    """DATABASES["default"] for a SQLite path or a postgres:// (postgresql://) URL, as Postern's --db takes them."""
    url = urlsplit(value)
    if url.scheme not in ("postgres", "postgresql"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": value}
    name = unquote(url.path.lstrip("/"))
    if not name or not url.hostname:
        raise ImproperlyConfigured("DJANGO_BACKEND_DB: a PostgreSQL URL needs a host and a database name: " + value)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname,
        "PORT": str(url.port or ""),
        "CONN_MAX_AGE": int(_env("CONN_MAX_AGE", "0")),
    }


DATABASES = {"default": _database(_env("DB", os.path.join(os.getcwd(), "reference-backend.sqlite3")))}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
# As startproject writes it. Django's password reset tokens count seconds in this zone's local time; Postern in UTC.
TIME_ZONE = "UTC"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"

# A deployment's cache and session store: Django's RedisCache, and the cached_db engine over it.
if _env("REDIS_URL"):
    if django.VERSION < (4, 0):
        raise ImproperlyConfigured("DJANGO_BACKEND_REDIS_URL: Django's RedisCache needs Django 4.0 or later")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _env("REDIS_URL")}}
SESSION_ENGINE = "django.contrib.sessions.backends." + _env("SESSION_ENGINE", "db")
if _env("SESSION_ENGINE", "db") not in ("db", "cached_db", "cache"):
    raise ImproperlyConfigured("DJANGO_BACKEND_SESSION_ENGINE must be db, cached_db or cache")

if _env("HTTPS") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [origin for origin in _env("TRUSTED_ORIGINS").split(",") if origin]

# Django's default validators, as startproject writes them.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = int(_env("PASSWORD_RESET_TIMEOUT", "259200"))

# The account flows' own settings (read by accounts/).
SIGNUP_ENABLED = _env("SIGNUP_ENABLED") == "1"
EMAIL_VERIFICATION = _env("EMAIL_VERIFICATION", "optional")
if EMAIL_VERIFICATION not in ("none", "optional", "mandatory"):
    raise ImproperlyConfigured("DJANGO_BACKEND_EMAIL_VERIFICATION must be none, optional or mandatory")
EMAIL_VERIFICATION_TIMEOUT = int(_env("EMAIL_VERIFICATION_TIMEOUT", "259200"))
# Paths are taken as relative to this server; it serves no page there (a frontend would).
PASSWORD_RESET_URL = _env("PASSWORD_RESET_URL", "/reset/{uid}/{token}")
EMAIL_VERIFY_URL = _env("EMAIL_VERIFY_URL", "/verify-email/{key}")

DEFAULT_FROM_EMAIL = _env("DEFAULT_FROM_EMAIL", "webmaster@localhost")
if _env("SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(_env("SMTP_PORT"))
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
}
