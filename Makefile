# Llamux top-level build.  `make` builds the jar (and the kernel module where the
# running kernel's headers exist); `make test` runs every test; `make demo` runs the
# whole product inside a VM.  JDK 25 is found by scripts/java-home, never from PATH.

export JAVA_HOME := $(shell scripts/java-home)
MVN ?= mvn -B -q
JAR := target/llamux.jar
KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all jar kmod test java-test vm-test daemon-vm-test demo bench clean install uninstall

all: jar kmod

jar: $(JAR)

$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	@test -n "$(JAVA_HOME)" || { echo "JDK 25 not found (see scripts/java-home)"; exit 1; }
	scripts/ensure-build-deps
	$(MVN) package -DskipTests

kmod:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C kmod KDIR=$(KDIR) OUT=$(CURDIR)/build/kmod; \
	else echo "kmod: no kernel headers at $(KDIR); skipping the module (make vm-test builds it for the VM)"; fi

test: java-test
	scripts/verify-unit
	$(MAKE) vm-test
	$(MAKE) daemon-vm-test

java-test:
	scripts/ensure-build-deps
	$(MVN) test

vm-test:
	scripts/vm/vm-test.sh

# The real daemon and model in the VM: named scenarios, then a boot with systemd as init.
daemon-vm-test: jar
	scripts/daemon-vm-test

demo: jar
	scripts/demo

# Llamux next to llama.cpp's llama-bench (../shared/bench/llama.cpp) on the same files and
# threads, runs alternating, one table with the ratios (scripts/bench-llamacpp).  The files are
# the TinyLlama-shaped ones ../shared/bench/make-models writes into ../bench-models.
BENCH_MODELS ?= $(wildcard $(addprefix ../bench-models/tinyllama-shape-,Q4_0.gguf Q8_0.gguf Q4_K_M.gguf))
BENCH_THREADS ?= 2,1
BENCH_ROUNDS ?= 3
bench: jar
	@test -n "$(BENCH_MODELS)" || { echo "bench: no models in ../bench-models: run ../shared/bench/make-models ../bench-models tinyllama, or set BENCH_MODELS=FILE.gguf"; exit 1; }
	scripts/bench-llamacpp -t $(BENCH_THREADS) -r $(BENCH_ROUNDS) $(BENCH_MODELS)

# PREFIX=/usr/local puts the jar, launchers and unit under /usr/local instead of /usr;
# DESTDIR=dir stages the files instead (no DKMS, no systemctl).
install: jar
	scripts/install install

uninstall:
	scripts/install uninstall

clean:
	$(MVN) clean || true
	rm -rf build
