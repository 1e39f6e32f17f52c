"""Background work: imports queued from the browser run here, in a worker process."""

import shutil
from pathlib import Path

from django_tasks import task

from placewise.accounts.audit import record

from .models import ImportRun


@task()
def run_import(run_id: int) -> dict:
    from .importer import do_import_police_uk

    run = ImportRun.objects.get(pk=run_id)
    paths = sorted(Path(run.upload_dir).iterdir()) if run.upload_dir else []
    try:
        run = do_import_police_uk(run, paths)
        record(run.created_by, "import_police_uk", run, after=run.summary())
    finally:
        # The rows are in the database now (or the import failed and said why): uploads
        # are not kept, so the media folder does not grow with every import.
        if run.upload_dir:
            shutil.rmtree(run.upload_dir, ignore_errors=True)
    return run.summary()
