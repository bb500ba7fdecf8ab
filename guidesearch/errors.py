"""Exceptions whose messages say what went wrong and what to do next.

Entry points catch GuideSearchError: the CLI prints "error: <message>" and exits 1, the page
shows the message. Anything else is a bug.
"""


class GuideSearchError(Exception):
    """Base class: the message is meant for the user and names the fix."""


class SettingsError(GuideSearchError):
    """A setting has a value that cannot work."""


class CorpusError(GuideSearchError):
    """The corpus folder is missing, empty or holds no readable guide."""


class ChunkError(GuideSearchError):
    """A section cannot be cut into chunks the model reads whole (the guide is skipped)."""


class ModelError(GuideSearchError):
    """The embedding model cannot be loaded."""


class IndexMissingError(GuideSearchError):
    """No index has been built in the index folder."""


class IndexMismatchError(GuideSearchError):
    """The index was built with other settings (model, chunking) than the current ones."""


class IndexCorruptError(GuideSearchError):
    """An index file is truncated, corrupted, or disagrees with the others."""


class IndexFolderError(GuideSearchError):
    """The index folder cannot be created or written (a file, read-only, full)."""


class BuildLockedError(GuideSearchError):
    """Another build holds the lock on the index folder."""


class QuestionError(GuideSearchError):
    """A question cannot be searched (empty, or nothing searchable in it)."""


class OutputFileError(GuideSearchError):
    """A file the user asked to write cannot be written."""


class QuestionFileError(GuideSearchError):
    """A question file has a line that is not in one of the three accepted formats."""


class ServeError(GuideSearchError):
    """The server cannot listen where it was asked to (a port in use, an unknown host)."""
