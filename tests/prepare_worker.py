"""A process of its own that prepares one campaign (the embedded runner: a thread, no Redis) and
stops for good after its first chunk, for the tests that kill it mid-way:
``python -m tests.prepare_worker CAMPANA_ID CHUNK`` with DATABASE_URL (and PANEL_ENV=testing) in
the environment. It prints ``chunk N`` once a chunk is committed, then waits to be killed."""

import sys
import threading

from panel import create_app
from panel.sms import preparacion, runners


def main() -> None:
    campana_id, chunk = int(sys.argv[1]), int(sys.argv[2])
    app = create_app()
    assert not app.config.get("REDIS_URL"), "the embedded runner: no Redis"
    preparacion.CHUNK = chunk
    stuck = threading.Event()

    def after_chunk(_campana_id: int, written: int) -> None:
        print(f"chunk {written}", flush=True)
        stuck.wait()  # never set: the test kills this process here, between two chunks

    preparacion.after_chunk = after_chunk
    runners.dispatch_preparation(campana_id, app).join()


if __name__ == "__main__":
    main()
