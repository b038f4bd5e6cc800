"""What a release installed with ``pip install /path/to/dcc`` (docs/deployment.md) needs at run
time lies inside the packages the wheel is built from: templates, static files, translations."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from django.conf import settings

import dcc

PACKAGE = Path(dcc.__file__).resolve().parent
ROOT = PACKAGE.parent


def read_directories() -> list[Path]:
    """The directories Django reads templates, translations and static files from."""
    engines: list[dict[str, Any]] = settings.TEMPLATES
    locales: list[Path] = settings.LOCALE_PATHS
    statics: list[Path] = settings.STATICFILES_DIRS
    return [
        *(Path(d) for engine in engines for d in engine["DIRS"]),
        *(Path(d) for d in [*locales, *statics]),
    ]


def test_every_directory_django_reads_files_from_is_inside_the_package() -> None:
    directories = read_directories()
    assert len(directories) == 3
    for directory in directories:
        assert directory.resolve().is_relative_to(PACKAGE), directory
        assert directory.is_dir(), directory


def test_the_wheel_takes_every_kind_of_file_those_directories_hold() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["packages"]["find"].get("namespaces", True)  # template folders have no __init__
    shipped = {pattern.removeprefix("*") for pattern in config["package-data"]["*"]}
    directories = read_directories()
    suffixes = {
        path.suffix
        for directory in directories
        for path in directory.rglob("*")
        if path.is_file() and path.name != ".gitkeep"
    }
    assert suffixes <= shipped, suffixes - shipped
