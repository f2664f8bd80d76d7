# Fast KSeF. `make run` serves the API, `make test` runs every test; both install what they need.
SHELL := /bin/bash
ALL_STAMP := node_modules/.fastksef-all

.PHONY: run build demo test typecheck codegen check-generated lint-spec sdk bench sandbox migrate system-deps install

install: $(ALL_STAMP)

$(ALL_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(ALL_STAMP)

system-deps:
	@bash scripts/install-system-deps.sh

## Compile to JavaScript in dist/: what `make run`, `npm start` and the other production paths run with plain node.
build: install
	npx tsc -p tsconfig.build.json

## Serve the API on PORT (default 3000) with embedded PGlite in DATA_DIR, or PostgreSQL when DATABASE_URL is set.
run: build system-deps
	node dist/src/main.js

## The sandbox and the server wired together (in memory), a KSeF token stored; prints what to try next.
demo: install system-deps
	npx tsx scripts/demo.ts

## Type-check, then every test (against PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise).
test: install system-deps typecheck
	npm test --silent

typecheck: install
	npx tsc --noEmit -p .

## The KSeF sandbox, standalone on SANDBOX_PORT (default 4010).
sandbox: build
	node dist/src/sandbox/main.js

## spec/openapi.yaml → generated/ (types and the operationId → handler map).
codegen: install
	npx tsx scripts/codegen.ts

## Fails when generated/ is not what `make codegen` makes from the spec.
check-generated: codegen
	@git diff --exit-code --stat -- generated/ || (echo "generated/ is stale: run make codegen and commit it" && exit 1)
	@test -z "$$(git status --porcelain -- generated/)" || (echo "generated/ has untracked files: run make codegen and commit it" && exit 1)

lint-spec: install
	npx redocly lint spec/openapi.yaml --format=stylish

## The installable client package in sdk/ (fast-ksef-sdk: compiled JS and .d.ts, openapi-fetch its dependency).
sdk: install
	npx tsx scripts/sdk.ts

migrate: build
	node dist/scripts/migrate.js

## Benchmarks (figures are printed as ratios measured in one run).
bench: install system-deps
	@for b in bench/*/run.ts; do echo "== $$b"; npx tsx $$b || exit 1; done
