# kortti: every target installs what it needs first. On a fresh Debian machine:
#   make demo   kortti on the built-in virtual card (no hardware)
#   make test   every test, fmt check, lint and type check
SHELL := /bin/bash
DENO_VERSION := 2.9.6
DENO := $(CURDIR)/tools/node_modules/.bin/deno
export DENO_DIR := $(CURDIR)/tools/deno_dir
export DENO_NO_UPDATE_CHECK := 1
APT_PACKAGES := pcscd libpcsclite1 vsmartcard-vpcd opensc pcsc-tools openssl libnss3-tools chromium \
                poppler-utils xdg-utils pinentry-curses iproute2 util-linux procps curl python3 time
TS_FILES = $(shell git ls-files '*.ts' 2>/dev/null; ls cli/*.ts lib/*.ts lib/*/*.ts ffi/*.ts tests/*.ts tests/*/*.ts bench/*.ts mod.ts 2>/dev/null)
PREFIX ?= $(HOME)/.local
TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc

.PHONY: deps deno system-packages cache demo test check lint fmt fmt-check unit bench compile install fixtures clean

deps: deno system-packages cache

deno: $(DENO)
$(DENO): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	@$(DENO) --version | head -n 1 | grep -q "deno $(DENO_VERSION)" || { echo "make: tools/ did not give deno $(DENO_VERSION)" >&2; exit 1; }
	touch $(DENO)

# Debian packages the tests and the demo use. Installed with apt-get when root; otherwise the missing ones are named.
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "make: missing Debian packages (install them as root): $$missing" >&2; fi

cache: $(DENO)
	@$(DENO) cache --lock=deno.lock --frozen $(sort $(TS_FILES))
	@# fetches esbuild for 'deno bundle' (the browser build of the SCS toolkit in tests/browser_scs_test.ts)
	@$(DENO) bundle --quiet --platform browser lib/scs/mod.ts -o tools/deno_dir/scs-toolkit.js

demo: deps
	@echo "== kortti list-readers (pcscd + vpcd, with the virtual v4 card plugged into vpcd)"
	@tests/stack/isolate.sh tests/stack/demo.sh

test: deps fmt-check lint check unit

fmt:
	$(DENO) fmt
fmt-check: $(DENO)
	$(DENO) fmt --check
lint: $(DENO)
	$(DENO) lint
	$(DENO) doc --lint mod.ts
check: cache
	$(DENO) check $(sort $(TS_FILES))
unit: cache
	tests/run.sh

bench: deps
	tests/stack/isolate.sh $(DENO) run --allow-all bench/main.ts

fixtures: cache
	$(DENO) run --allow-all fixtures/make.ts

# deno compile needs the denort runtime, downloaded from dl.deno.land unless DENO_RT/DENORT_BIN names a local one.
compile: cache
	@mkdir -p dist
	@for t in $(TARGETS); do \
	  out=dist/kortti-$$t; \
	  if ! $(DENO) compile --quiet --no-prompt --target $$t --output $$out \
	      --allow-ffi --allow-read --allow-write --allow-env --allow-net --allow-run --allow-sys \
	      --include lib --include fixtures cli/main.ts 2>dist/compile-$$t.log; then \
	    url=$$(sed 's/\x1b\[[0-9;]*m//g' dist/compile-$$t.log | grep -o 'https://[^ )]*denort[^ )]*' | head -n 1); \
	    if [ -n "$$url" ]; then \
	      echo "make compile: cannot build $$t: deno compile needs its 'denort' runtime and could not download it" >&2; \
	      echo "  from $$url ($$(sed 's/\x1b\[[0-9;]*m//g' dist/compile-$$t.log | grep -o '[a-z]* error: [^)]*' | tail -n 1))." >&2; \
	      echo "  Connect to the internet, or set DENORT_BIN=/path/to/denort (Deno $(DENO_VERSION), built for $$t) and run again." >&2; \
	    else \
	      echo "make compile: deno compile failed for $$t:" >&2; sed 's/^/  /' dist/compile-$$t.log >&2; \
	    fi; \
	    exit 1; \
	  fi; \
	  echo "built $$out"; \
	done

install: deps
	@mkdir -p $(PREFIX)/bin
	@if $(MAKE) --no-print-directory compile TARGETS=$$(uname -m | sed 's/arm64/aarch64/')-unknown-linux-gnu 2>/dev/null; then \
	  cp dist/kortti-*linux-gnu $(PREFIX)/bin/kortti; echo "installed the compiled kortti in $(PREFIX)/bin"; \
	else \
	  printf '#!/bin/sh\nexec "%s/kortti" "$$@"\n' "$(CURDIR)" > $(PREFIX)/bin/kortti; chmod +x $(PREFIX)/bin/kortti; \
	  echo "deno compile cannot run here (no denort): installed a launcher for this checkout in $(PREFIX)/bin/kortti"; \
	fi

clean:
	rm -rf dist tools/node_modules tools/deno_dir
