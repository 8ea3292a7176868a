"""Errors a user can meet. Each message is one line: what is wrong and what to do."""


class StudioError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""

    exit_code = 1


class ConfigError(StudioError):
    """studio.toml or a flag is invalid."""

    exit_code = 2


class InputError(StudioError):
    """A file or value given by the user is malformed; nothing was written."""

    exit_code = 2


class NotFoundError(StudioError):
    """A named thing (contender, prompt, pair, model version) does not exist."""


class SchemaError(StudioError):
    """The database schema is older or newer than this version of the studio."""


class ModelLoadError(StudioError):
    """A model could not be loaded; the message names the contender and what to do."""


class AccessDenied(StudioError):
    """The caller's role does not allow this action."""


class ConflictError(StudioError):
    """The request contradicts what is stored: a vote on an item the rater was not shown,
    or an idempotency key already used for another vote."""
