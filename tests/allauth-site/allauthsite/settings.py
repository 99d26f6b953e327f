"""Settings of the django-allauth peer: a minimal site that serves allauth's account views, (on the new
allauth) its headless API and MFA, and a DRF list, the way the allauth documentation sets a site up.

One file for both allauth releases; what differs is chosen from the allauth that imports:
  0.51 (Debian 12, with Django 3.2)  allauth, allauth.account: the HTML forms only
  65+  (Debian's newer suites, with Django 5.2)  also allauth.mfa (TOTP, recovery codes) and
       allauth.headless with HEADLESS_ONLY = False (the forms and the API side by side)

The environment:
  ALLAUTH_SITE_DIR           the folder of the SQLite database and the file cache (default: ./.allauth-site)
  ALLAUTH_SITE_SECRET_KEY    SECRET_KEY (default: a fixed key, for tests only)
  ALLAUTH_SITE_RATE_LIMITS=0 turns allauth's rate limits off (on by default, as allauth ships them)
  ALLAUTH_SITE_EMAIL_VERIFICATION  ACCOUNT_EMAIL_VERIFICATION: none (default), optional or mandatory
"""
import os

import allauth

NEW = int(allauth.__version__.split(".")[0]) >= 65


def _env(name, default=""):
    return os.environ.get("ALLAUTH_SITE_" + name, default)


DATA_DIR = _env("DIR", os.path.join(os.getcwd(), ".allauth-site"))
os.makedirs(DATA_DIR, exist_ok=True)

SECRET_KEY = _env("SECRET_KEY", "allauth-peer-key-for-tests-only-do-not-deploy-51e7")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.staticfiles",
    "rest_framework",
    "allauth",
    "allauth.account",
]
if NEW:
    INSTALLED_APPS += ["allauth.mfa", "allauth.headless"]
else:
    # 0.51's account templates load the socialaccount tag library (no provider is configured).
    INSTALLED_APPS += ["allauth.socialaccount"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
if NEW:
    # Required since allauth 0.56.
    MIDDLEWARE.append("allauth.account.middleware.AccountMiddleware")

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

ROOT_URLCONF = "allauthsite.urls"
WSGI_APPLICATION = "allauthsite.wsgi.application"
SITE_ID = 1

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(DATA_DIR, "allauth-site.sqlite3"),
    }
}
# allauth keeps its rate-limit counters, and allauth.mfa the TOTP codes already used, in Django's cache: a file
# cache, so that every gunicorn worker sees the same.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.path.join(DATA_DIR, "cache"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Where allauth's forms send the browser after a login and a logout.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/api/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"

# Log in by username or by e-mail address; no e-mail needs confirming to log in.
if NEW:
    ACCOUNT_LOGIN_METHODS = {"username", "email"}
    ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
else:
    ACCOUNT_AUTHENTICATION_METHOD = "username_email"
    ACCOUNT_EMAIL_REQUIRED = True
ACCOUNT_EMAIL_VERIFICATION = _env("EMAIL_VERIFICATION", "none")
ACCOUNT_UNIQUE_EMAIL = True
if _env("RATE_LIMITS", "1") == "0":
    if NEW:
        ACCOUNT_RATE_LIMITS = False
    else:
        ACCOUNT_LOGIN_ATTEMPTS_LIMIT = None  # 0.51's lockout after 5 failures in 5 minutes

if NEW:
    # The forms and the headless API together: the API's browser client shares the forms' session and CSRF.
    HEADLESS_ONLY = False
    HEADLESS_SERVE_SPECIFICATION = True  # /_allauth/openapi.json, .yaml and .html
    MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]

# Server errors go to the server's output, with their tracebacks.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
}
