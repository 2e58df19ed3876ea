# netyard: the two commands are `make demo` and `make test`.

GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Every fuzz target, as package:Target.
FUZZ_TARGETS = \
	./switch:FuzzParseTag \
	./switch:FuzzInput \
	./switch:FuzzParseBPDU \
	./switch:FuzzSTPSequence \
	./switch/vxlan:FuzzInput \
	./switch/macvlan:FuzzInput \
	./switch/vxlan:FuzzReceive \
	./switch/vxlan:FuzzReceiveOffload \
	./netdb:FuzzDecode \
	./netdb:FuzzRecords \
	./internal/link:FuzzResolve \
	./internal/stack:FuzzInput \
	./internal/stack:FuzzDNSAnswer \
	./internal/stack:FuzzTCPStream \
	./ipam:FuzzParseRequest \
	./dnsd:FuzzAnswerBytes \
	./dnsd:FuzzParseNames \
	./dnsd:FuzzIndex \
	./dnsd:FuzzResolverBytes \
	./dnsd:FuzzZoneBytes \
	./dnsd:FuzzFastAnswer \
	./nat:FuzzTranslate \
	./nat:FuzzTable \
	./nat:FuzzPortBits \
	./nat/gateway:FuzzInput \
	./nat/gateway:FuzzInputOffload \
	./nat/gateway:FuzzGatewaySequence \
	./sim/scenario:FuzzParse \
	./sim/scenario:FuzzParseCount \
	./sim/scenario:FuzzParseDuration \
	./sim/scenario:FuzzParseDurRange \
	./sim/scenario:FuzzParseRate \
	./sim/scenario:FuzzParseProbability \
	./sim/topo:FuzzValidName \
	./sim/topo:FuzzParsePortMapping \
	./sim/topo:FuzzParsePortSpec \
	./sim/scenario:FuzzRun \
	./sim/netns:FuzzParseRun \
	./sim/capture:FuzzSummarize \
	./internal/header:FuzzEthernet \
	./internal/header:FuzzIPv4

.PHONY: all build test demo bench fuzz lint clean

all: build

build:
	$(GO) build -o bin/netyard ./cmd/netyard

## demo: the in-memory backend narrates a scenario (no root needed)
demo:
	$(GO) run ./cmd/netyard run scenarios/docker-bridge-tutorial.yaml --explain

## test: every test, with the race detector; scenarios run in memory
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
	cd sim/memtest/outside && $(GO) test -count=1 ./...  # a module of its own: netyard's public API only

## bench: hot-path and engine benchmarks (one core, then two)
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -cpu 1,2 ./switch ./sim
	$(GO) test -run '^$$' -bench STPMesh -benchtime 1x ./sim/mem
	$(GO) test -run '^$$' -bench 'Storm|Sweep1000Hosts' -benchtime 1x ./sim/scenario  # Sweep10000Hosts takes minutes: docs/performance.md
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./nat/... ./dnsd

## fuzz: each fuzz target for FUZZTIME
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## lint: gofmt, go vet, staticcheck, go mod tidy
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -diff

clean:
	rm -rf bin
	$(GO) clean -testcache
