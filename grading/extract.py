"""The definitions a notebook makes: moved to ``mlcourse.notebook`` (the student edition's
progress report needs it too); kept here for the grader's imports."""
from mlcourse.notebook import _keep, _strip_magics, definitions

__all__ = ["definitions", "_keep", "_strip_magics"]
