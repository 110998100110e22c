"""Public holidays by region (``[publishing] holidays``, e.g. ``DE-BE``): a job planned on one
is a conflict in the calendar.

The days come from the ``holidays`` package, which imports all of its ~250 countries when it
is imported (50 ms) and takes another 60 ms to work out one region's year — on every command
that plans. So the days are kept in the cache folder (``.commsflow/cache/holidays.json``) by the package's
version, region and year: a region's days do not change until the package does. The cache is
optional: a state folder that cannot be written or a damaged file only means asking the
package again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

_FILE = "holidays.json"
_LANGUAGE = "de"  # holiday names as the calendar's conflicts name them


def days_off(region: str, years: Iterable[int], cache: Path | None) -> dict[date, str]:
    """The public holidays of ``region`` ("DE-BE") in ``years``: day → name. Raises
    NotImplementedError for a region the package does not know. ``cache``: the cache folder
    (None: nothing is kept, as with --no-cache)."""
    years = sorted(set(years))
    kept = _read(cache)
    known = kept.setdefault(region, {})
    missing = [year for year in years if str(year) not in known]
    if missing:
        found = _ask(region, missing)
        for year in missing:
            known[str(year)] = {day.isoformat(): name for day, name in found.items() if day.year == year}
        _write(cache, kept)
    try:
        return {date.fromisoformat(day): name for year in years for day, name in known[str(year)].items()}
    except ValueError:  # a damaged cache: ask the package
        return _ask(region, years)


def is_known(region: str, cache: Path | None) -> bool:
    """Whether the package knows ``region``'s public holidays."""
    if region in _read(cache):
        return True
    try:
        days_off(region, [2024], cache)
    except NotImplementedError:
        return False
    return True


def _ask(region: str, years: list[int]) -> dict[date, str]:
    import holidays

    country, _dash, subdivision = region.partition("-")
    return dict(holidays.country_holidays(country, subdiv=subdivision or None, years=years, language=_LANGUAGE))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("holidays")
    except PackageNotFoundError:  # pragma: no cover - a dependency of commsflow
        return "-"


def _read(cache: Path | None) -> dict:
    from commsflow.cache import read_kept

    regions = read_kept(cache / _FILE if cache else None, _version())
    return regions if _plain(regions) else {}


def _write(cache: Path | None, regions: dict) -> None:
    from commsflow.cache import write_kept

    write_kept(cache / _FILE if cache else None, _version(), regions)


def _plain(regions) -> bool:
    """region → year → {day: name}, all text."""
    return isinstance(regions, dict) and all(
        isinstance(years, dict)
        and all(
            isinstance(days, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in days.items())
            for days in years.values()
        )
        for years in regions.values()
    )
