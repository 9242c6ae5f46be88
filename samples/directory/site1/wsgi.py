"""
WSGI entry point of the "directory" sample: ``site1.wsgi:application``.

Besides building the Django application this makes sure the SQLite database exists
and is migrated before the worker reports ready. Several workers import this module
at the same moment, so the check-and-migrate step holds an exclusive flock() on a lock
file next to the database; whoever gets it first migrates, the others then find
nothing left to do. When the database is already up to date this costs one query.
"""
import fcntl
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site1.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()


def _ensure_database():
    from django.conf import settings
    from django.core.management import call_command
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    db_path = str(settings.DATABASES[DEFAULT_DB_ALIAS]["NAME"])
    connection = connections[DEFAULT_DB_ALIAS]
    with open(db_path + ".lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
            if pending:
                call_command("migrate", interactive=False, verbosity=0)
        finally:
            # Don't carry this thread's connection into request handling (or a fork).
            connection.close()
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# Note: nothing here may read settings.STATIC_URL. Django caches it with the script
# prefix of the first access; read during a request, it gets the host's SCRIPT_NAME.
_ensure_database()
