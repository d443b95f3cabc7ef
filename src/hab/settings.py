"""HAB's one settings module, configured only by HAB_* environment variables.

HAB_DATABASE_URL   database (default: SQLite in the data dir, WAL, IMMEDIATE transactions)
HAB_DATA_DIR       where the embedded database, uploads and generated keys live (default ./var)
HAB_SECRET_KEY     Django's signing key (default: generated once into the data dir)
HAB_RESEARCH_KEY   key of the research pseudonyms (default: generated once into the data dir)
HAB_LEDGER_KEY     key that signs the controlled-drug ledger's daily checkpoints; keep it
                   out of the database and its backups (default: generated once into the
                   data dir)
HAB_DEBUG          off unless set
HAB_ALLOWED_HOSTS  comma separated (default: localhost,127.0.0.1)
HAB_ALLOW_SYNTHETIC_IDS  accept Tenor-style synthetic national ids (demo and tests only)
HAB_SECURE_COOKIES cookies only over HTTPS (default: on unless HAB_DEBUG)
HAB_HSTS_SECONDS   Strict-Transport-Security max-age when HAB_SECURE_COOKIES is on
                   (default 31536000, one year; 0 turns HSTS off)
HAB_HSTS_SUBDOMAINS, HAB_HSTS_PRELOAD  HSTS for the whole domain, preload (default off)
HAB_PROXY_SSL_HEADER  behind a reverse proxy that terminates TLS: trust its
                   X-Forwarded-Proto and X-Forwarded-For (default off)
HAB_SSL_REDIRECT   redirect http to https (default: on with HAB_SECURE_COOKIES and
                   HAB_PROXY_SSL_HEADER)
HAB_REQUIRE_2FA    TOTP second factor for roles that prescribe, export research data or
                   change the protocol, and for administrators (default on; the demo
                   turns it off)
HAB_SESSION_IDLE_MINUTES  log out after this much inactivity (default 60)
HAB_KIOSK_IDLE_MINUTES    the same on a shared tablet or PC, chosen at login (default 30)
HAB_LOGIN_FAILURE_LIMIT   failed logins (passwords or codes) before a lock-out (default 5)
HAB_LOGIN_COOLOFF_MINUTES how long a lock-out lasts (default 15; 0 = until an admin unlocks)
HAB_SMALL_NUMBER_THRESHOLD  evaluation counts under this are withheld from roles outside
                   the clinic's care staff (default 5; 1 = off)
HAB_OIDC_ISSUER, HAB_OIDC_AUTHORIZATION_ENDPOINT, HAB_OIDC_TOKEN_ENDPOINT,
HAB_OIDC_USERINFO_ENDPOINT, HAB_OIDC_JWKS_ENDPOINT, HAB_OIDC_CLIENT_ID,
HAB_OIDC_CLIENT_SECRET    optional OpenID Connect login (HelseID); on when the client id
                   and the endpoints are set
HAB_OIDC_CLAIM     the provider's claim that names the HAB user (default
                   preferred_username; HelseID: helseid://claims/hpr/hpr_number)
HAB_OIDC_USER_FIELD the HAB user field it is matched to: username or hpr_number
HAB_OIDC_SCOPES    default "openid profile"
HAB_OIDC_LABEL     the button's text (default "HelseID")
HAB_OIDC_IS_2FA    the provider's login counts as the second factor (default on)
HAB_LMDI_SENDER_CERT, HAB_LMDI_SENDER_KEY  PEM files of the clinic's enterprise certificate
                   and its private key, which sign reports to Legemiddelregisteret
HAB_LMDI_SENDER_KEY_PASSWORD  the private key's password, if it has one
HAB_LMDI_RECIPIENT_CERT  PEM file of Legemiddelregisteret's certificate, which the
                   reports are encrypted for (all unset: reporting is not configured)
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from hab.env import SettingError, envbool, envint, envlist, envsecret, envstr

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(envstr("HAB_DATA_DIR", "var") or "var").resolve()

DEBUG = envbool("HAB_DEBUG", False)
SECRET_KEY = envsecret("HAB_SECRET_KEY", DATA_DIR, "secret_key")
RESEARCH_KEY = envsecret("HAB_RESEARCH_KEY", DATA_DIR, "research_key")
# Signs the ledger's checkpoints (hab ledger-checkpoint): someone who can rewrite the
# database but does not hold this key cannot make a rewritten chain verify.
LEDGER_KEY = envsecret("HAB_LEDGER_KEY", DATA_DIR, "ledger_key")
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # Only for its vendored Swagger UI files: without the app ninja loads them from a CDN.
    "ninja",
    # Only for its translations: the password strength messages in bokmål.
    "django_zxcvbn_password_validator",
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
    "hab.interop",
    "hab.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hab.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside WhiteNoise (static files stay cacheable), outside every other answer:
    # patient data is never stored by a browser or proxy.
    "hab.core.middleware.NoStoreMiddleware",
    # Before anything reads a body or answers in HTML: every error under /api/ is JSON.
    "hab.core.api_contract.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hab.core.security.IdleTimeoutMiddleware",
    "hab.core.security.SecondFactorMiddleware",
    "hab.core.middleware.CurrentClinicMiddleware",
    # After the clinic: a shared tablet locks after the clinic's idle minutes.
    "hab.core.lock.IdleLockMiddleware",
    # After the lock (a locked tablet gets the lock screen): a NUL in the address is a 400.
    "hab.core.middleware.NulQueryMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out answer.
    "axes.middleware.AxesMiddleware",
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
        # Django's backend with writers queued on a lock file (see its docstring).
        config["ENGINE"] = "hab.core.backends.sqlite"
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
# The board's covering indexes (dosing.Administration, prescribing.Prescription) carry
# INCLUDE columns for PostgreSQL's index-only scans. SQLite builds them without those
# columns, which HAB's queries there do not need, so its models.W040 reminder (shown at
# every `hab migrate`, e.g. each demo start) says nothing to act on. Silenced on SQLite
# only: on PostgreSQL the check stays.
SQLITE = DATABASES["default"]["ENGINE"] == "hab.core.backends.sqlite"

# Argon2 first; older hashes (PBKDF2) still verify and are upgraded at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# --- logins: lock-out, second factor, inactivity, OpenID Connect ----------------------
HAB_REQUIRE_2FA = envbool("HAB_REQUIRE_2FA", True)
HAB_SESSION_IDLE_MINUTES = envint("HAB_SESSION_IDLE_MINUTES", 60)
HAB_KIOSK_IDLE_MINUTES = envint("HAB_KIOSK_IDLE_MINUTES", 30)
HAB_SMALL_NUMBER_THRESHOLD = envint("HAB_SMALL_NUMBER_THRESHOLD", 5)
if HAB_SMALL_NUMBER_THRESHOLD < 1:
    raise SettingError("HAB_SMALL_NUMBER_THRESHOLD must be 1 or more")
OTP_TOTP_ISSUER = "HAB"

AXES_FAILURE_LIMIT = envint("HAB_LOGIN_FAILURE_LIMIT", 5)
_cooloff_minutes = envint("HAB_LOGIN_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=_cooloff_minutes) if _cooloff_minutes else None
# Two counts (hab.core.security.LockoutHandler): a user name from one address is locked
# after AXES_FAILURE_LIMIT failures there, so a wrong password typed at one tablet does
# not lock the same nurse out at every other and nobody can lock a colleague out with a
# few tries from elsewhere; the user name is locked at every address after
# HAB_LOGIN_USERNAME_FAILURE_LIMIT failures from all addresses together, so guessing
# from many addresses is stopped too.
AXES_HANDLER = "hab.core.security.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["username"]]
HAB_LOGIN_USERNAME_FAILURE_LIMIT = envint("HAB_LOGIN_USERNAME_FAILURE_LIMIT", 10)
if HAB_LOGIN_USERNAME_FAILURE_LIMIT < AXES_FAILURE_LIMIT:
    raise SettingError(
        "HAB_LOGIN_USERNAME_FAILURE_LIMIT counts failures from all addresses: it cannot be "
        "below HAB_LOGIN_FAILURE_LIMIT, the count from one address."
    )
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hab.core.auth_views.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# Behind the reverse proxy the client's address is the first X-Forwarded-For entry.
AXES_IPWARE_PROXY_COUNT = 1 if envbool("HAB_PROXY_SSL_HEADER", False) else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    if envbool("HAB_PROXY_SSL_HEADER", False)
    else ["REMOTE_ADDR"]
)

HAB_OIDC_CLIENT_ID = envstr("HAB_OIDC_CLIENT_ID", "") or ""
HAB_OIDC_ENABLED = bool(HAB_OIDC_CLIENT_ID)
HAB_OIDC_CLAIM = envstr("HAB_OIDC_CLAIM", "preferred_username") or "preferred_username"
HAB_OIDC_USER_FIELD = envstr("HAB_OIDC_USER_FIELD", "username") or "username"
if HAB_OIDC_USER_FIELD not in {"username", "hpr_number"}:
    raise SettingError("HAB_OIDC_USER_FIELD must be username or hpr_number")
HAB_OIDC_LABEL = envstr("HAB_OIDC_LABEL", "HelseID") or "HelseID"
HAB_OIDC_IS_2FA = envbool("HAB_OIDC_IS_2FA", True)
OIDC_OP_ISSUER = envstr("HAB_OIDC_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = envstr("HAB_OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = envstr("HAB_OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = envstr("HAB_OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = envstr("HAB_OIDC_JWKS_ENDPOINT", "")
OIDC_RP_CLIENT_ID = HAB_OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = envstr("HAB_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = envstr("HAB_OIDC_SCOPES", "openid profile") or "openid profile"
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
if HAB_OIDC_ENABLED:
    _missing = [
        name
        for name, value in [
            ("HAB_OIDC_AUTHORIZATION_ENDPOINT", OIDC_OP_AUTHORIZATION_ENDPOINT),
            ("HAB_OIDC_TOKEN_ENDPOINT", OIDC_OP_TOKEN_ENDPOINT),
            ("HAB_OIDC_USERINFO_ENDPOINT", OIDC_OP_USER_ENDPOINT),
            ("HAB_OIDC_JWKS_ENDPOINT", OIDC_OP_JWKS_ENDPOINT),
            ("HAB_OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET),
        ]
        if not value
    ]
    if _missing:
        raise SettingError("HAB_OIDC_CLIENT_ID is set but not " + ", ".join(_missing))

# --- reports to Legemiddelregisteret: the envelope's certificates (hab.interop.envelope) --
# Paths, read when a report is sealed; empty = not configured (hab check-deploy warns when
# only some are set).
HAB_LMDI_SENDER_CERT = envstr("HAB_LMDI_SENDER_CERT", "") or ""
HAB_LMDI_SENDER_KEY = envstr("HAB_LMDI_SENDER_KEY", "") or ""
HAB_LMDI_SENDER_KEY_PASSWORD = envstr("HAB_LMDI_SENDER_KEY_PASSWORD", "") or ""
HAB_LMDI_RECIPIENT_CERT = envstr("HAB_LMDI_RECIPIENT_CERT", "") or ""

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name before any password is checked.
    "hab.core.security.AxesBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The administrator role's rights in /admin/ (HAB has no superusers).
    "hab.core.admin_rights.AdminRoleBackend",
] + (["hab.core.oidc.HabOIDCBackend"] if HAB_OIDC_ENABLED else [])

# A password is refused when it is like the user's name or user name, is made of them
# ("nurse.oslo1" for nurse.oslo, "karinordmann1980"), is short or common, or is guessable
# by zxcvbn's estimate with the user's names and the words below as its first guesses.
# Strength 3 of 4: more than 10^8 guesses, beyond what the lock-out lets anyone try
# online and costly offline against Argon2.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "hab.core.passwords.NotTheUsersNameValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django_zxcvbn_password_validator.ZxcvbnPasswordValidator"},
]
PASSWORD_MINIMAL_STRENGTH = 3
PASSWORD_EXTRA_DICTIONARY = [
    "hab",
    "heroinassistert",
    "behandling",
    "oslo",
    "bergen",
    "klinikk",
    "sykepleier",
    "lege",
    "passord",
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

# The longest a session lives however active it is; inactivity ends it much sooner
# (HAB_SESSION_IDLE_MINUTES, hab.core.security.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = envint("HAB_SESSION_SECONDS", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = envbool("HAB_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from the page, not the cookie
# HSTS only when HAB is served over HTTPS (Django sends it on secure requests only).
SECURE_HSTS_SECONDS = envint("HAB_HSTS_SECONDS", 365 * 24 * 3600) if SECURE_COOKIES else 0
# Subdomains and the browsers' preload list bind the hospital's whole domain: that is the
# domain owner's decision, so both are off unless set, and Django's reminders silenced.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HAB_HSTS_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("HAB_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"] + (["models.W040"] if SQLITE else [])
_PROXY_SSL = envbool("HAB_PROXY_SSL_HEADER", False)
if _PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a trusted proxy Django can tell http from https, and sends http to https.
SECURE_SSL_REDIRECT = envbool("HAB_SSL_REDIRECT", SECURE_COOKIES and _PROXY_SSL)
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
