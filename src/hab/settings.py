"""HAB's one settings module, configured only by HAB_* environment variables.

HAB_DATABASE_URL   database (default: SQLite in the data dir, WAL, IMMEDIATE transactions)
HAB_DATA_DIR       where the embedded database, uploads and generated keys live (default ./var)
HAB_SECRET_KEY     Django's signing key (default: generated once into the data dir)
HAB_RESEARCH_KEY   key of the research pseudonyms (default: generated once into the data dir)
HAB_DEBUG          off unless set
HAB_ALLOWED_HOSTS  comma separated (default: localhost,127.0.0.1)
HAB_ALLOW_SYNTHETIC_IDS  accept Tenor-style synthetic national ids (demo and tests only)
HAB_SECURE_COOKIES cookies only over HTTPS (default: on unless HAB_DEBUG)
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from hab.env import envbool, envint, envlist, envsecret, envstr

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(envstr("HAB_DATA_DIR", "var") or "var").resolve()

DEBUG = envbool("HAB_DEBUG", False)
SECRET_KEY = envsecret("HAB_SECRET_KEY", DATA_DIR, "secret_key")
RESEARCH_KEY = envsecret("HAB_RESEARCH_KEY", DATA_DIR, "research_key")
ALLOWED_HOSTS = envlist("HAB_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
ALLOW_SYNTHETIC_IDS = envbool("HAB_ALLOW_SYNTHETIC_IDS", False)
DEMO_PASSWORD = envstr("HAB_DEMO_PASSWORD", "demo-pass-2026")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "hab.core",
    "hab.patients",
    "hab.intake",
    "hab.prescribing",
    "hab.dosing",
    "hab.stock",
    "hab.incidents",
    "hab.care",
    "hab.operations",
    "hab.research",
    "hab.evaluation",
    "hab.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hab.core.middleware.CurrentClinicMiddleware",
]

ROOT_URLCONF = "hab.urls"
WSGI_APPLICATION = "hab.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hab.core.context_processors.navigation",
            ],
        },
    },
]


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=envint("HAB_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
            # failing half-way with "database is locked"; busy_timeout makes them wait.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        }
    return config


DATABASES = {
    "default": _database(
        envstr("HAB_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'hab.sqlite3'}",
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian bokmål")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Oslo"

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even if empty
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# The static files ship inside the package; serving them straight from the apps
# means no collectstatic step can be forgotten on a clinic's server.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_AGE = envint("HAB_SESSION_SECONDS", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = envbool("HAB_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("HAB_LOG_LEVEL", "WARNING")},
}
