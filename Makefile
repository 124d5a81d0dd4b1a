# The two commands of the README, and the build step they share. The work is in scripts/.
.PHONY: run test build bench faults

run:   ## Run Cairn on embedded defaults (builds first)
	@scripts/run.sh

test:  ## Run every check and test, Playwright in Chromium included
	@scripts/test.sh

build: ## Build the release server and browser bundle, print the bundle size
	@scripts/build.sh

bench: ## Benchmarks that print figures (never asserted): the scheduler's simulated week
	@scripts/bench.sh

faults: ## The fault campaign: 50 trials of kills mid-operation, invariants checked after each
	@scripts/faults.sh
