# commsflow — `make run` and `make test` work on a fresh machine with Python 3.11+ and make.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
# The date of the MPI monitoring report the shipped content describes.
DEMO_NOW ?= 2024-03-01 10:00

.PHONY: run test format messages bench install install-test clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (python3 --version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# commsflow's modules are compiled once here: a shell with PYTHONDONTWRITEBYTECODE set would
# otherwise compile every module from source on every command (a tenth of a second).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q commsflow
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q commsflow
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(BIN)/commsflow --now "$(DEMO_NOW)" check
	$(BIN)/commsflow --now "$(DEMO_NOW)" stats
	$(BIN)/commsflow --now "$(DEMO_NOW)" build
	$(BIN)/commsflow --now "$(DEMO_NOW)" calendar --from 2024-03-01 --to 2024-07-31
	@echo
	@echo "Geprüft: jede Datei unter content/ und campaigns/ – auflisten mit: $(BIN)/commsflow list [post|news|event|project]"
	@echo "Zahlen oben mit Stand $(DEMO_NOW); maschinenlesbar: $(BIN)/commsflow --now '$(DEMO_NOW)' stats --json"
	@echo "build/index.html im Browser öffnen: der Kalender und eine Vorschau von allem, was hinausgeht;"
	@echo "  Vorschauen der Inhalte, die noch keine Kampagne plant, nach Monat: build/drafts/ (verlinkt unter „Entwürfe“)"
	@echo "  (oder: $(BIN)/commsflow --now '$(DEMO_NOW)' preview – zeigt es an und erstellt es bei Änderungen neu;"
	@echo "  Prüfen, Freigeben und Kalender im Browser: $(BIN)/commsflow --now '$(DEMO_NOW)' desk)."
	@echo "Newsletter: build/newsletter/index.html und die email.html jeder Ausgabe;"
	@echo "  alle Ausgaben: $(BIN)/commsflow newsletter list – eine Vorschau mit Entwürfen (nach build/newsletter/AUSGABE/preview/): $(BIN)/commsflow newsletter build --drafts"
	@echo "Pressemitteilungen: build/press/*/release.{docx,pdf,html,md,txt} und je ein .zip für den Presseverteiler –"
	@echo "  LinkedIn-Entwürfe: build/linkedin/ – Instagram-Pakete (Bild, Bildunterschrift, Alternativtext): build/instagram/ – Kalenderdateien: build/events/"
	@echo "Das Jahr 2024, wie der Zeitplan es veröffentlichen würde: $(BIN)/commsflow run --simulate 2024-01-01..2024-12-31 (nach .commsflow/simulation/; das echte Versandprotokoll bleibt unberührt)"
	@echo "Meldungen auf Englisch: $(BIN)/commsflow --lang en … (oder COMMSFLOW_LANG=en)"

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Bring the code to the project's style (what `make test` checks).
format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The message catalogs (commsflow/locale/): extract the messages marked with _() from the
# code, merge them into each language's .po (new ones untranslated: the tests say which),
# and compile the .mo files commsflow reads. Translate in the .po, then run it again.
# click's own words (Usage:, Options:, its errors) are in the catalog too: --help and a mistyped
# option speak German as well.
LOCALE := commsflow/locale
messages: $(VENV)/.installed-test
	cd $$($(BIN)/python -c 'import click, os; print(os.path.dirname(os.path.dirname(click.__file__)))') && \
		$(CURDIR)/$(BIN)/pybabel extract --add-location=file --no-wrap -F $(CURDIR)/babel.cfg \
		-k _ -k ngettext:1,2 -o $(CURDIR)/$(LOCALE)/click.pot click
	$(BIN)/pybabel extract --project=commsflow --add-location=file --sort-output --no-wrap \
		-F babel.cfg -k _ -k N_ -k ngettext:1,2 -o $(LOCALE)/commsflow.pot commsflow templates
	$(BIN)/python -c 'import sys; from babel.messages.pofile import read_po, write_po; \
		ours, theirs = (read_po(open(name, "rb")) for name in sys.argv[1:3]); \
		[ours[m.id] is None and ours.add(m.id, locations=m.locations, flags=m.flags) for m in theirs if m.id]; \
		write_po(open(sys.argv[1], "wb"), ours, width=0, sort_output=True)' $(LOCALE)/commsflow.pot $(LOCALE)/click.pot
	rm $(LOCALE)/click.pot
	$(BIN)/pybabel update --init-missing --no-fuzzy-matching --no-wrap -l de \
		-i $(LOCALE)/commsflow.pot -d $(LOCALE) -D commsflow
	$(BIN)/pybabel compile --statistics -d $(LOCALE) -D commsflow

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build .commsflow bench/results.json
