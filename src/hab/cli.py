"""The ``hab`` command: Django management with HAB's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # Commands may be spelt with hyphens or underscores: `hab check-deploy` is check_deploy,
    # `hab verify_ledger` is verify-ledger.
    if len(argv) > 1 and not argv[1].startswith("-"):
        import django
        from django.core.management import get_commands

        django.setup()
        known = get_commands()
        for spelling in (argv[1], argv[1].replace("-", "_"), argv[1].replace("_", "-")):
            if spelling in known:
                argv[1] = spelling
                break
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
