"""Background work: imports queued from the browser run here, in a worker process."""

from pathlib import Path

from django_tasks import task

from .models import ImportRun


@task()
def run_import(run_id: int) -> dict:
    from .importer import do_import_police_uk

    run = ImportRun.objects.get(pk=run_id)
    paths = sorted(Path(run.upload_dir).iterdir()) if run.upload_dir else []
    run = do_import_police_uk(run, paths)
    return run.summary()
