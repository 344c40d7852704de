"""The report's languages: gettext catalogs under ``report/locale/<lang>/LC_MESSAGES/messages.po``.

The ``.po`` files are the source of truth and are compiled in memory when a report
is rendered (Babel, no network, no build step), so a new language is one file.
English is the source language: its catalog maps each text to itself and the
tests check it is complete like the others.

Texts come from three places, all extracted by ``python -m advocacy.report.i18n extract``
(which rewrites ``messages.pot`` and merges it into every ``messages.po``):

* the Jinja2 templates (``{% trans %}``, ``_()``),
* the Python of the report (``_()`` / ``N_()`` markers),
* the report fields of ``advocacy.quality.catalog`` (titles, chart titles, series
  labels, notes, descriptions): they are translated by their English text.
"""

from __future__ import annotations

import io
import sys
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
TEMPLATES = Path(__file__).resolve().parent / "templates"
DOMAIN = "messages"
LANGUAGES = ("en", "nb", "it")
# Babel / CLDR locale for numbers and dates when settings.report.locale is not set
DEFAULT_LOCALES = {"en": "en", "nb": "nb_NO", "it": "it_IT"}


def N_(text: str) -> str:  # noqa: N802 - the gettext convention
    """Marks a text for extraction where it is translated later (module constants)."""
    return text


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


@lru_cache(maxsize=8)
def translations(language: str) -> Translations:
    """The compiled catalog of ``language`` (compiled in memory from its ``.po``)."""
    if language not in LANGUAGES:
        raise ValueError(
            f"settings report.language: {language!r} is not one of {', '.join(LANGUAGES)}; "
            "add locale/<lang>/LC_MESSAGES/messages.po to ship a new language"
        )
    buf = io.BytesIO()
    write_mo(buf, read_catalog(language), use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def locale_for(language: str, locale: str | None) -> str:
    return locale or DEFAULT_LOCALES.get(language, language)


# -- extraction --------------------------------------------------------------------------


def catalog_texts() -> list[str]:
    """The report's texts that live in the table catalog (translated by their English text)."""
    from advocacy.quality.catalog import MARTS

    texts: list[str] = []
    for m in MARTS:
        if not (m.csv or m.chart or m.summary):
            continue
        texts += [m.title, m.description]
        if m.chart:
            texts += [m.chart.title, m.chart.note, *(s.label for s in m.chart.series)]
    seen: dict[str, None] = {}
    for t in texts:
        if t:
            seen.setdefault(t, None)
    return list(seen)


def extract() -> Catalog:
    """Every text of the report: templates, the report's Python, the catalog's report fields."""
    from babel.messages.extract import extract_from_dir

    pot = Catalog(project="advocacy report", fuzzy=False)
    package = Path(__file__).resolve().parent
    method_map = [("templates/**.j2", "jinja2"), ("*.py", "python")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(package),
        method_map,
        options_map=options,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)},
        comment_tags=("Translators:",),
    ):
        pot.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    for text in catalog_texts():
        pot.add(text, locations=[("quality/catalog.py", 0)])
    return pot


def update() -> None:
    """Rewrite messages.pot and merge it into each language's messages.po (new texts untranslated)."""
    pot = extract()
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, pot, omit_header=True, sort_output=True, width=100, include_lineno=False)
    for language in LANGUAGES:
        pot = extract()  # Catalog.update shares the template's messages: a fresh one each
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            catalog = read_catalog(language)
            catalog.update(pot, no_fuzzy_matching=True)
        else:
            catalog = Catalog(locale=language)
            catalog.update(pot)
        if language == "en":  # the source language: each text is its own translation
            for message in catalog:
                if not message.id:
                    continue
                if isinstance(message.id, (tuple, list)):
                    if not all(message.string or ()):
                        message.string = tuple(message.id)
                elif not message.string:
                    message.string = message.id
        with path.open("wb") as f:
            write_po(f, catalog, sort_output=True, width=100, ignore_obsolete=True, include_lineno=False)


def missing(language: str) -> list[str]:
    """Texts of the report with no (or a fuzzy) translation in ``language``."""
    catalog = read_catalog(language)
    out = []
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = (found.string if found else None) or ""
        ok = all(strings) if isinstance(strings, (tuple, list)) else bool(strings)
        if not found or not ok or found.fuzzy:
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["extract"]:
        update()
        for language in LANGUAGES:
            gaps = missing(language)
            print(f"{language}: {len(gaps)} untranslated")
        return 0
    print("usage: python -m advocacy.report.i18n extract", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
