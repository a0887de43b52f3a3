# The two commands: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
export FLASK_APP := wsgi

.PHONY: run test lint format bench reliability clean

# Two stamps: `make run` installs the runtime only (requirements.txt); the tests, lint and
# benchmarks add their tools (requirements-dev.txt, which includes the runtime). --no-compile:
# pip would compile every module of every package, one core for half of the install (24 of 51 s
# on a 2-core machine); Python compiles a module the first time it is imported instead.
$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	@touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-compile -r requirements-dev.txt
	@touch $(DEV_STAMP)

SIM_TOKEN := instance/simulation_token
ENC_KEY := instance/encryption_key

## make run: install, migrate, load demo data (first time), print logins, serve on 127.0.0.1:5000
## (the first time it also generates this deployment's webhook secret for simulation mode)
run: $(STAMP) $(SIM_TOKEN) $(ENC_KEY)
	PANEL_ENV=$${PANEL_ENV:-development} $(BIN)/flask db upgrade
	PANEL_ENV=$${PANEL_ENV:-development} $(BIN)/flask demo-data
	PANEL_ENV=$${PANEL_ENV:-development} \
	  TWILIO_SIMULATION_TOKEN=$${TWILIO_SIMULATION_TOKEN:-$$(cat $(SIM_TOKEN))} \
	  PANEL_ENCRYPTION_KEY=$${PANEL_ENCRYPTION_KEY:-$$(cat $(ENC_KEY))} \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000

# A secret of this deployment (never a constant of the code): signs the simulated webhooks.
$(SIM_TOKEN):
	@mkdir -p instance
	@umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > $@
	@echo "TWILIO_SIMULATION_TOKEN generado en $@: $$(cat $@)"

# This deployment's Fernet key: encrypts each agency's own Twilio Auth Token (never printed).
$(ENC_KEY): | $(STAMP)
	@mkdir -p instance
	@umask 077 && $(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $@
	@echo "PANEL_ENCRYPTION_KEY generada en $@"

## make test: the whole suite (SQLite by default; DATABASE_URL=postgresql://… for PostgreSQL), on
## PYTEST_WORKERS processes (pytest-xdist; 2 fits a 2-core machine, 0 runs it in this process). Whole
## files are handed out, in the order tests/conftest.py gives (the longest first), to whichever
## worker has run out, so both workers end the pass within seconds of each other. Bytecode is
## written even where the environment says not to (PYTHONDONTWRITEBYTECODE): the suite starts
## hundreds of Python processes (servers, workers, benchmarks), each would compile the panel again.
PYTEST_WORKERS ?= 2
test: $(DEV_STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check panel tests bench wsgi.py

format: $(DEV_STAMP)
	$(BIN)/ruff format panel tests bench wsgi.py

clean:
	rm -rf $(VENV) instance .pytest_cache

## make bench: the five benchmarks against their baselines (BENCH_SIZE=quick|full|smoke, DATABASE_URL)
bench: $(DEV_STAMP)
	BENCH_SIZE=$${BENCH_SIZE:-quick} $(BIN)/python -m bench.run_all $(BENCH_ARGS)

## make reliability: the full-size reliability runs (tenancy matrix, 20 fault runs × 1,000 SMS,
## generated form posts, schemathesis on the API, 60 s of load, killed import workers at 10,000
## rows, a campaign beside a 50,000-row import); SQLite by default, DATABASE_URL=postgresql://… for
## PostgreSQL
reliability: $(DEV_STAMP)
	MATRIX_PER_KIND=3 FAULT_RUNS=20 FAULT_SIZE=1000 FUZZ_EXAMPLES=200 API_FUZZ_EXAMPLES=100 LOAD_SECONDS=60 \
	  IMPORT_KILLED_ROWS=10000 IMPORT_BESIDE_SMS_ROWS=50000 \
	  $(BIN)/python -m pytest -s -q tests/test_attack_matrix.py tests/test_faults.py \
	  tests/test_fuzz_forms.py tests/test_api_fuzz.py tests/test_security.py tests/reliability \
	  tests/test_import_jobs.py $(PYTEST_ARGS)
