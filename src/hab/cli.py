"""The ``hab`` command: Django management with HAB's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    # Commands may be spelt with hyphens: `hab check-deploy` is check_deploy.
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
