# convox.rack — developer entry points.  `make demo` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(VENV)/collections
# outside the work tree: inside it, git-ignored paths would hide every file from ansible-test
ATEST_ROOT := $(or $(TMPDIR),/tmp)/convox-rack-ansible-test/ansible_collections
STATE := $(CURDIR)/.tmp/localaws
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export PATH := $(BIN):$(PATH)
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_DEPRECATION_WARNINGS := false
PYTEST_WORKERS ?= 2
# the integration tests mostly wait on stack operations in real-duration mode: two workers more than the 2 cores
# overlaps those waits (each worker has its own local endpoint)
INTEGRATION_WORKERS ?= 4

.PHONY: deps-newest endpoint pure galaxy docs docs-lint ee matrix setup setup-all test test-aws lint security units oldest integration molecule sanity ansible-test-units demo localaws-start localaws-stop clean bench

# The oldest environment: exactly the floors the collection states (tools/floors.py: ansible-core from
# meta/runtime.yml, boto3/botocore/PyYAML from requirements.txt, amazon.aws from galaxy.yml, in its own
# collections directory), so that they are tested, not only claimed: `make oldest` runs the unit tests in it and
# the integration suite runs a publish + install + update (tests/integration/test_floors.py) and the inventory
# plugin's "values from AWS are never templated" test with it.
OLDEST_CORE := $(VENV)/core-oldest

# ansible-core 2.18, between the oldest (2.17, above) and the newest (.venv): the newest boto3 and amazon.aws of
# .venv's ansible package (linked into its own collections directory, with ansible.posix whose json callback the
# integration tests read).  `make matrix` runs the unit tests in the 2.17 and 2.18 environments; the integration suite
# runs its lifecycle subset in all three (tests/integration/test_matrix.py).
CORE_218 := $(VENV)/core-2.18

setup: $(VENV)/.installed $(COLLECTIONS)/ansible_collections/convox/rack $(OLDEST_CORE)/.installed $(CORE_218)/.installed

# Every environment installs exactly what constraints.txt pins for it (tools/constraints.py renders each one's and
# checks the result): a dependency's new release changes nothing until a pin moves (make deps-newest).
CONSTRAINTS := $(PYTHON) tools/constraints.py

$(CORE_218)/.installed: $(VENV)/.installed requirements.txt tests/unit/requirements.txt constraints.txt
	test -x $(CORE_218)/bin/python || $(PYTHON) -m venv $(CORE_218)
	$(CONSTRAINTS) render core-2.18 > $(CORE_218)/constraints.txt
	$(CORE_218)/bin/python -m pip install --quiet -c $(CORE_218)/constraints.txt pip
	$(CORE_218)/bin/python -m pip install --quiet -c $(CORE_218)/constraints.txt "ansible-core>=2.18,<2.19" \
		-r requirements.txt -r tests/unit/requirements.txt "pytest>=8,<10" "pytest-xdist>=3,<4"
	$(CONSTRAINTS) check core-2.18 $(CORE_218)/bin/python
	mkdir -p $(CORE_218)/collections/ansible_collections/convox
	ln -sfn $(CURDIR) $(CORE_218)/collections/ansible_collections/convox/rack
	for ns in amazon ansible; do ln -sfn "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections/$$ns" \
		$(CORE_218)/collections/ansible_collections/$$ns; done
	touch $@

$(OLDEST_CORE)/.installed: meta/runtime.yml requirements.txt galaxy.yml tools/floors.py tests/unit/requirements.txt constraints.txt
	test -x $(OLDEST_CORE)/bin/python || $(PYTHON) -m venv $(OLDEST_CORE)
	$(CONSTRAINTS) render oldest > $(OLDEST_CORE)/constraints.txt
	$(OLDEST_CORE)/bin/python -m pip install --quiet -c $(OLDEST_CORE)/constraints.txt pip
	$(OLDEST_CORE)/bin/python tools/floors.py > $(OLDEST_CORE)/floors.txt
	@# the test harness with the floors it can run on (boto3's floor with the s3transfer of its day), then the floors
	@# it cannot (the local endpoint's cfn-lint asks a newer PyYAML than the collection's floor; the harness runs on it
	@# all the same) exactly, without their dependencies
	$(OLDEST_CORE)/bin/python -m pip install --quiet -c $(OLDEST_CORE)/constraints.txt -r tests/unit/requirements.txt \
		"pytest>=8,<10" "pytest-xdist>=3,<4" ansible-core boto3 botocore
	$(OLDEST_CORE)/bin/python -m pip install --quiet --no-deps -r $(OLDEST_CORE)/floors.txt
	$(OLDEST_CORE)/bin/python -m pip check | grep -v -i '^cfn-lint .* pyyaml' | (! grep .)
	$(CONSTRAINTS) check oldest $(OLDEST_CORE)/bin/python
	$(OLDEST_CORE)/bin/python tools/floors.py --collections $(OLDEST_CORE)/collections
	touch $@

$(VENV)/.installed: requirements-dev.txt requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(CONSTRAINTS) render main > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt pip
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -r requirements-dev.txt -r requirements.txt
	$(CONSTRAINTS) check main $(BIN)/python
	touch $@

$(COLLECTIONS)/ansible_collections/convox/rack:
	mkdir -p $(COLLECTIONS)/ansible_collections/convox
	ln -sfn $(CURDIR) $@

lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/cfn-lint --include-checks I -- formation/*.yml
	$(BIN)/python tools/check_layers.py
	$(BIN)/ruff check .
	@# ansible-test sanity's pep8 (its line length and ignore list), so a finding fails here in seconds
	$(BIN)/python -m pycodestyle --max-line-length 160 --ignore E402,W503,W504,E741,E203,E701,E704 \
		--exclude .venv,.git,.tox,tests/output .
	@# mypy over every plugin (module_utils and plugin_utils fully annotated: pyproject.toml) and the tools
	cd $(COLLECTIONS) && $(BIN)/mypy --config-file $(CURDIR)/pyproject.toml -p ansible_collections.convox.rack.plugins
	cd tools && $(BIN)/mypy --config-file $(CURDIR)/pyproject.toml *.py localaws
	$(BIN)/ansible-lint --offline -q roles playbooks

# checkov CloudFormation checks on the rack and app templates; a skipped check carries its
# justification inline (Metadata.checkov.skip).  Own virtualenv: checkov pins its dependencies.
CHECKOV_VENV := $(VENV)/checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CONSTRAINTS) render checkov > $(CHECKOV_VENV)/constraints.txt
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -c $(CHECKOV_VENV)/constraints.txt pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -c $(CHECKOV_VENV)/constraints.txt -r requirements-checkov.txt
	$(CONSTRAINTS) check checkov $(CHECKOV_VENV)/bin/python
	touch $@

# Galaxy's and Automation Hub's importer (galaxy-importer), in its own virtualenv: it pins older attrs and flake8
IMPORTER_VENV := $(VENV)/importer
$(IMPORTER_VENV)/.installed: constraints.txt
	test -x $(IMPORTER_VENV)/bin/python || $(PYTHON) -m venv $(IMPORTER_VENV)
	$(CONSTRAINTS) render importer > $(IMPORTER_VENV)/constraints.txt
	$(IMPORTER_VENV)/bin/python -m pip install --quiet -c $(IMPORTER_VENV)/constraints.txt pip
	$(IMPORTER_VENV)/bin/python -m pip install --quiet -c $(IMPORTER_VENV)/constraints.txt galaxy-importer
	$(CONSTRAINTS) check importer $(IMPORTER_VENV)/bin/python
	touch $@

# the built tarball through galaxy-importer, configured as Automation Hub runs it (tools/galaxy_import.py)
galaxy: setup $(IMPORTER_VENV)/.installed
	$(BIN)/python tools/galaxy_import.py $(IMPORTER_VENV)/bin/python

# every virtualenv at once (.ci/run: make -j3 setup-all, then make test): they build independently but for 2.18's,
# which links .venv's amazon.aws
setup-all: setup $(CHECKOV_VENV)/.installed $(IMPORTER_VENV)/.installed

security: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --directory formation --framework cloudformation --skip-download --compact --quiet

molecule: setup
	$(BIN)/molecule test

units: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

# Three tiers of tests: the collection's unit tests (tests/unit/plugins: pure, or on moto in-process), which run once
# per ansible-core; the local endpoint's own tests and the templates' (tests/unit/tools, tests/unit/formation: they
# depend on moto and cfn-lint, not on ansible-core), which run once; the playbook scenarios (tests/integration).
# (a directory target of ansible-test units needs its trailing slash)
PLUGIN_TESTS := tests/unit/plugins/
ENDPOINT_TESTS := tests/unit/tools tests/unit/formation

# the fast tier alone (tests marked "pure": no emulator), for a quick loop; make test runs them within the tiers below
pure: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m pure tests/unit

# the endpoint's rules and the templates, once
endpoint: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) $(ENDPOINT_TESTS)

# the unit tests on the floors (the collection found in the oldest environment's own collections directory)
oldest: setup
	$(OLDEST_CORE)/bin/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) $(PLUGIN_TESTS)

# the unit tests on every ansible-core meta/runtime.yml admits but the newest (which ansible-test units runs)
matrix: oldest
	$(CORE_218)/bin/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) $(PLUGIN_TESTS)

integration: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(INTEGRATION_WORKERS) --maxschedchunk 1 --durations=15 tests/integration

# ansible-test wants the collection at .../ansible_collections/convox/rack: copy the tree there
# (amazon.aws comes from the `ansible` package beside it).
$(ATEST_ROOT): setup
	$(BIN)/python tools/ansible_test_tree.py $(ATEST_ROOT)

# the full sanity set on Python 3.11; compile and import (the tests that depend on the Python version) on every other
# Python from 3.10 to 3.13 the machine has (tools/sanity_pythons.py: a missing one is skipped, saying so)
sanity: setup
	$(BIN)/python tools/ansible_test_tree.py $(ATEST_ROOT)
	cd $(ATEST_ROOT)/convox/rack && $(BIN)/ansible-test sanity --python 3.11 --requirements --color no
	$(BIN)/python tools/sanity_pythons.py $(ATEST_ROOT)/convox/rack --skip 3.11

ansible-test-units: setup
	$(BIN)/python tools/ansible_test_tree.py $(ATEST_ROOT)
	cd $(ATEST_ROOT)/convox/rack && $(BIN)/ansible-test units --python 3.11 --requirements --color no $(PLUGIN_TESTS)

# The documentation site (antsibull-docs + Sphinx, offline): .tmp/docs-site/html/index.html.  The integration suite
# builds it too and checks every link in chromium (tests/integration/test_docs_site.py).
docs: setup
	$(BIN)/python tools/docs_site.py

# antsibull-docs' own linter over the plugin, role and extra docs.  git is kept out of the virtualenv inside the work
# tree: antsibull-docs would otherwise copy amazon.aws from there as an empty git checkout.
docs-lint: setup
	cd $(COLLECTIONS)/ansible_collections/convox/rack && GIT_CEILING_DIRECTORIES=$(VENV) \
		$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

# the unit tests run once, under ansible-test (the same tests/unit as `make units`, which is for a quick
# local run); integration prints its slowest tests so the suite's time stays visible.  The short parts run in two
# lanes side by side (most use one core), each part's output printed whole when it ends; the playbook scenarios run
# alone after them (tools/test_parts.py).  Every part prints what it took.
TEST_LANES := lint,galaxy,docs-lint,security,molecule,ee,matrix endpoint,ansible-test-units,sanity
TEST_LAST := integration
test: setup
	@$(BIN)/python tools/test_parts.py $(TEST_LANES) -- $(TEST_LAST)

# the AWX / Automation Platform execution environment definition (docs/examples/awx/): ansible-builder create makes
# its build context, and the Python requirements it would install resolve together (pip --dry-run)
ee: setup
	$(BIN)/python tools/ee_check.py

localaws-start: setup
	cd tools && $(BIN)/python -m localaws start --state-dir $(STATE)

localaws-stop:
	-test -x $(BIN)/python && cd tools && $(BIN)/python -m localaws stop --state-dir $(STATE)

demo: setup
	$(BIN)/python tools/demo.py

# The lifecycle tests (tests/aws) against the AWS account of the environment's credentials, in one region, named
# with a disposable prefix and cleaned up on exit: CONVOX_TEST_AWS=yes confirms (docs/guide.md, "Running against a
# real account"); CONVOX_TEST_AWS_REGION, CONVOX_TEST_AWS_PREFIX optional.
test-aws: setup
	$(BIN)/python tools/test_aws.py

# the newest release of every dependency (the ranges of requirements-dev.txt and requirements.txt, no constraints)
# in .venv/newest: what would move, and whether the endpoint's tests, the unit tests and the least-privilege
# lifecycle still pass on it.  Not in make test: a pin moves on purpose (tools/constraints.py freeze).
deps-newest:
	$(PYTHON) tools/deps_newest.py $(DEPS_ARGS)

bench: setup
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -r bench/requirements.txt
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf .tmp tests/output
