"""Settings of the Django reference backend: the plain Django + DRF backend of the frontend guide.

Everything that matters for the protocol is Django's default; the environment changes only what a
deployment would change:
  DJANGO_BACKEND_DB               the SQLite file (default: ./reference-backend.sqlite3)
  DJANGO_BACKEND_SECRET_KEY       SECRET_KEY (default: a fixed key, for tests only)
  DJANGO_BACKEND_HTTPS=1          served behind a TLS proxy that sets X-Forwarded-Proto: secure
                                  cookies, and Django's strict Referer checks on HTTPS
  DJANGO_BACKEND_TRUSTED_ORIGINS  comma-separated CSRF_TRUSTED_ORIGINS (with scheme)
"""
import os


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
    "accounts",
]

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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _env("DB", os.path.join(os.getcwd(), "reference-backend.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
STATIC_URL = "/static/"

if _env("HTTPS") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [origin for origin in _env("TRUSTED_ORIGINS").split(",") if origin]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
}
