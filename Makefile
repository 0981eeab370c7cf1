# mlcourse — the two commands that matter: `make lab` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXECUTED := _build/executed
# The test runs pin BLAS to one thread: on a 2-core machine whose other core is busy (the
# browser, a second process), OpenBLAS's two threads wait on each other and small matrix
# products get 10-100x slower. Chapter 08 still measures 1 vs 2 threads in subprocesses.
TEST_ENV := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# The nbval arguments live in authoring/nbval.py (the site build re-executes a stale chapter
# with the same ones); "=" so they are read only when a recipe needs them.
NBVAL = $(shell $(PY) -m authoring.nbval)

.PHONY: lab test unit notebooks site site-only site-tests browser-deps browser-tests release grade gradescope bench mutants clean help \
	hub hub-stop hub-release hub-grade hub-deps hub-env hub-proxy

help:
	@echo "make lab    set up if needed, open the course in JupyterLab"
	@echo "make test   set up if needed, run everything (library, chapters, grader, site, browser)"
	@echo "make release | site | grade SUBMISSIONS=dir [ASSIGNMENT=ch01] | gradescope ASSIGNMENT=ch01 | bench | mutants | clean"
	@echo "make hub ROSTER=roster.csv [PORT=8000] | hub-release | hub-grade ASSIGNMENT=ch01 | hub-stop"

# --- set-up: a virtual environment, re-installed when pyproject.toml changes -------------
$(VENV)/.installed-dev: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "mlcourse needs Python 3.10+, found " + sys.version.split()[0]'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

$(VENV)/.installed-site: $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e ".[dev,site,hub]"
	@touch $@

# Jupyter refuses to run as root unless told (containers often are root).
lab: $(VENV)/.installed-dev
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# --- the whole test suite ---------------------------------------------------------------
test: $(VENV)/.installed-site browser-deps hub-deps
	$(MAKE) unit
	$(MAKE) notebooks
	$(MAKE) site-only
	$(MAKE) site-tests
	$(MAKE) browser-tests

# The tests marked `site` read the built pages (_build/html): they run after the site build,
# in site-tests, where a missing page fails (MLCOURSE_REQUIRE_SITE) instead of skipping.
unit: $(VENV)/.installed-dev
	$(TEST_ENV) $(PY) -m pytest tests -m "not browser and not site"

# Executes every chapter once (solutions and released student versions) under nbval and
# keeps the executed solutions for the site.
notebooks: $(VENV)/.installed-dev
	rm -rf $(EXECUTED)
	$(TEST_ENV) MLCOURSE_STATIC=1 $(PY) -m pytest $(NBVAL) --save-executed $(EXECUTED) solutions notebooks
	@cat $(EXECUTED)/timings.json

release: $(VENV)/.installed-dev
	$(PY) -m authoring.release $(if $(FORCE),--force)

# The student edition: _build/student/mlcourse-student/ and .zip (notebooks, wheel, README, Makefile).
edition: $(VENV)/.installed-dev
	$(PY) -m authoring.edition

# --- the course site (Jupyter Book 1.x, offline) ----------------------------------------
site: $(VENV)/.installed-site
	@test -d $(EXECUTED) || $(TEST_ENV) MLCOURSE_STATIC=1 $(PY) -m pytest $(NBVAL) --save-executed $(EXECUTED) solutions
	$(MAKE) site-only

# TEST_ENV here too: a stale chapter is re-executed with the same one-thread BLAS as `make notebooks`
# (two threads on a busy 2-core machine slow chapter 07 past nbval's cell timeout).
site-only: $(VENV)/.installed-site
	$(TEST_ENV) $(PY) -m authoring.site --executed $(EXECUTED)

site-tests: $(VENV)/.installed-dev
	$(TEST_ENV) MLCOURSE_REQUIRE_SITE=1 $(PY) -m pytest tests -m site

browser-deps:
	@bash .ci/ensure-chromium

browser-tests: $(VENV)/.installed-site
	$(TEST_ENV) $(PY) -m pytest tests -m browser

# --- the class's JupyterHub on this machine (classroom/README.md) -------------------------
# Students' servers run as the students, so their Python must be one every user can reach
# (a Python under /root is not): a venv of Debian's python3 in $(HUB_ENV) with the student
# edition's wheel (mlcourse and its data), jupyterhub-singleuser and nbgitpuller, its kernels
# loading mlcourse.friendly as `mlcourse lab` does. The proxy comes from the npm registry.
HUB_ENV ?= /opt/mlcourse-hub
HUB_DIR ?= /srv/mlcourse-hub
HUB_PYTHON ?= /usr/bin/python3
CHP := node_modules/.bin/configurable-http-proxy
HUB := $(PY) -m classroom --hub-dir $(HUB_DIR)
HUB_EXTRA = $$($(PY) -c 'from grading.config import tomllib; print(" ".join(repr(r) for r in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["hub"]))')

hub-deps: hub-env hub-proxy
hub-proxy: $(CHP)
$(CHP):
	npm install --no-save --no-package-lock --no-audit --no-fund configurable-http-proxy@5
	@test -x $@

hub-env: $(HUB_ENV)/.installed
$(HUB_ENV)/.installed: Makefile $(VENV)/.installed-dev pyproject.toml $(shell find mlcourse data -type f -not -path '*/__pycache__/*' 2>/dev/null)
	@$(HUB_PYTHON) -c 'import ensurepip, venv' 2>/dev/null || [ "$$(id -u)" != 0 ] || \
	  (DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null)
	@$(HUB_PYTHON) -c 'import ensurepip, venv' || (echo "make hub needs $(HUB_PYTHON) with venv (apt-get install python3-venv)" && exit 2)
	$(PY) -m authoring.edition
	@test -x $(HUB_ENV)/venv/bin/pip || $(HUB_PYTHON) -m venv $(HUB_ENV)/venv
	$(HUB_ENV)/venv/bin/pip install --quiet --upgrade pip
	$(HUB_ENV)/venv/bin/pip install --quiet --force-reinstall --no-deps _build/student/mlcourse-student/wheels/mlcourse-*.whl
	eval $(HUB_ENV)/venv/bin/pip install --quiet _build/student/mlcourse-student/wheels/mlcourse-*.whl $(HUB_EXTRA)
	mkdir -p $(HUB_ENV)/venv/etc/ipython
	$(PY) -c 'from mlcourse.__main__ import KERNEL_CONFIG; print(KERNEL_CONFIG, end="")' > $(HUB_ENV)/venv/etc/ipython/ipython_kernel_config.py
	rm -rf $(HUB_ENV)/data && chmod -R a+rX,go-w $(HUB_ENV)
	@touch $@

hub: $(VENV)/.installed-site hub-deps
	@test -n "$(ROSTER)" || (echo "usage: make hub ROSTER=roster.csv [PORT=8000] [HUB_DIR=/srv/mlcourse-hub]" && exit 2)
	$(HUB) up --roster $(ROSTER) --port $(or $(PORT),8000) $(HUB_ARGS)

hub-stop:
	$(HUB) down

hub-release: $(VENV)/.installed-dev
	$(HUB) release

hub-grade: $(VENV)/.installed-dev
	@test -n "$(ASSIGNMENT)" || (echo "usage: make hub-grade ASSIGNMENT=ch01" && exit 2)
	$(HUB) grade $(ASSIGNMENT)

# --- grading and benchmarks -------------------------------------------------------------
# make grade SUBMISSIONS=dir [ASSIGNMENT="ch01 ch02"] [ROSTER=roster.csv] [EXPORT="canvas moodle"]
#            [RETURN_TO=/home] [OUT=_build/gradebook]      (see grading/README.md)
grade: $(VENV)/.installed-dev
	@test -n "$(SUBMISSIONS)" || (echo "usage: make grade SUBMISSIONS=path/to/submissions [ASSIGNMENT=id] [ROSTER=roster.csv] [EXPORT=canvas|moodle|csv] [RETURN_TO=dir] [OUT=gradebook]" && exit 2)
	$(PY) -m grading $(SUBMISSIONS) --out $(or $(OUT),_build/gradebook) $(foreach a,$(ASSIGNMENT),--assignment $(a)) \
		$(if $(ROSTER),--roster $(ROSTER)) $(foreach e,$(EXPORT),--export $(e)) $(if $(RETURN_TO),--return-to $(RETURN_TO))

# A Gradescope autograder for one assignment: make gradescope [ASSIGNMENT=ch01] → _build/autograder.zip
gradescope: $(VENV)/.installed-dev
	$(PY) -m grading.gradescope build --assignment $(or $(ASSIGNMENT),course) --out $(or $(OUT),_build/autograder.zip)

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/mnist_mlp.py
	$(PY) benchmarks/per_sample_vs_batch.py
	$(PY) benchmarks/conv.py

# Plants typical student bugs into every solution block and reports how the checks react
# (silent / generic / diagnosed / raised per exercise). Slow-ish (~4 min on 2 cores): not in `make test`.
mutants: $(VENV)/.installed-dev
	$(TEST_ENV) $(PY) -m qa.mutants $(if $(CHAPTERS),--chapters $(CHAPTERS))

clean:
	rm -rf _build .pytest_cache
