"""A pytest plugin (loaded with ``-p placewise.testing``) that sets the test environment.

It must run before pytest-django imports the settings, which a conftest.py cannot do.
Background tasks run in-process so a test sees an import finish within its request.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("TASK_BACKEND", "immediate")
os.environ.setdefault("LOG_LEVEL", "ERROR")
