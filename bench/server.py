"""The benchmark app: the product with the benchmark's own settings (its database, no embedded
sender). The baseline is an app of its own: bench/baseline_app.py.

    gunicorn 'bench.server:create()'   (DATABASE_URL / BENCH_DATABASE_URL choose the database)
"""

from panel import create_app

from .common import bench_config, database_url


def create(**extra):
    """The served benchmark app."""
    return create_app(bench_config(database_url(), **extra))
