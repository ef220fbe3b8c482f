"""The composition root: command-line interface, HTTP server and wiring of core, storage,
scheduler and the platform adapters."""


def version() -> str:
    """The installed distribution's version (pyproject.toml's ``version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("learnbot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
