"""A process of its own that runs one import job on the embedded runner (a thread, no Redis), for
the tests that kill it mid-way: ``python -m tests.import_worker vista|importacion JOB_ID INTENTO``
with DATABASE_URL (and PANEL_ENV=testing) in the environment."""

import sys

from panel import create_app
from panel.importing import background


def main() -> None:
    fase, job_id, intento = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = create_app()
    assert not app.config.get("REDIS_URL"), "the embedded runner: no Redis"
    background.dispatch(job_id, intento, app, fase).join()


if __name__ == "__main__":
    main()
