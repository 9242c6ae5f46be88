"""
Settings for the "directory" sample (Django 3.2), served by PyPE.Exec under /apps/directory.

Everything deployment-specific comes from the environment:

    DJANGO_SECRET_KEY     secret key (a clearly-marked sample key is used when unset)
    DJANGO_DEBUG          "1" turns debug mode on (off by default)
    DJANGO_ALLOWED_HOSTS  comma-separated host names (default: "*")
    DJANGO_LOG_LEVEL      root log level (default: WARNING)
    DJANGO_STATIC_URL     override STATIC_URL (default: "static/", see below)
    DIRECTORY_DB_PATH     SQLite file (default: db.sqlite3 next to manage.py)
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# --- core --------------------------------------------------------------------

# SAMPLE ONLY: this fallback key is public. Set DJANGO_SECRET_KEY for anything real.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY",
    "sample-only-insecure-key-pype-exec-directory-do-not-use-in-production",
)

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "people",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "site1.urls"
WSGI_APPLICATION = "site1.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------
# One SQLite file in the project folder. site1/wsgi.py creates/migrates it on worker
# start (serialised with a file lock, since several workers start at once).

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DIRECTORY_DB_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20},  # seconds to wait for a lock held by another worker
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- i18n --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_L10N = True
USE_TZ = True

# --- static files ------------------------------------------------------------
# Relative on purpose: Django >= 3.1 prefixes a relative STATIC_URL with SCRIPT_NAME,
# so behind the host's path prefix it becomes /apps/directory/static/. The host serves
# that URL straight from the static/ folder (apps.d/directory.json, "static"); Python
# never sees those requests. (`manage.py runserver` with DJANGO_DEBUG=1 serves them too.)
# Caveat: Django computes the prefixed value once, on first access, from the SCRIPT_NAME of
# the request in hand; so every request must carry the same SCRIPT_NAME (the host does).
# DJANGO_STATIC_URL pins an absolute value instead, e.g. "/apps/directory/static/".
STATIC_URL = os.environ.get("DJANGO_STATIC_URL", "static/")
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- behind a reverse proxy (the PyPE.Exec host) -----------------------------

USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- logging: everything to stderr, which the host collects ----------------
# Unhandled view errors are logged by "django.request" at ERROR with the traceback.

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "WARNING").upper()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(levelname)s %(name)s [pid %(process)d] %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        },
    },
    "root": {
        "handlers": ["stderr"],
        "level": LOG_LEVEL,
    },
    "loggers": {
        # Replace Django's defaults (console only when DEBUG, mail to ADMINS otherwise):
        # its records go to the root handler above, with or without DEBUG.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
    },
}
