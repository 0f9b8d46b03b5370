#!/bin/sh
# The README's test command: installs the build and test dependencies on a
# fresh Debian 12 machine, then builds and runs the whole suite through
# ctest twice: a gcc build with -Werror, and a clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (which also builds the
# libFuzzer binaries and runs each briefly on its corpus).
#
#   tests/run-all.sh            everything (what CI runs)
#   TW_SKIP_INSTALL=1 ...       skip apt-get (dependencies already present)
#   TW_SKIP_ASAN=1 ...          skip the sanitizer build
#   TW_FUZZ_SECONDS=N ...       libFuzzer time per target (default 10, 0 = off)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev
 libyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
 libcmocka-dev python3 iproute2 prometheus tshark chromium
 strace systemd groff man-db libcap2-bin procps locales openssl"

# Every tool the tests use is installed below (kubectl, not a Debian
# package, comes with the machine image): here a test missing one (tshark,
# promtool, prometheus, chromium, kubectl, ...) or, as root, a privilege
# (capture, raw socket, setcap) fails instead of skipping
# (twamplib.strict() in tests/integration/, tw_test_unavailable() in the
# unit tests).
export TW_REQUIRE_TOOLS=1

if [ -z "${TW_SKIP_INSTALL:-}" ]; then
	echo "== installing dependencies (apt-get)"
	$SUDO apt-get update
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES
fi

run_suite() { # build-dir, extra cmake args...
	dir=$1
	shift
	echo "== configure $dir $*"
	cmake -S "$root" -B "$dir" -DTW_WERROR=ON "$@"
	echo "== build $dir"
	cmake --build "$dir" -j"$jobs"
	echo "== ctest $dir"
	(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 600)
}

run_suite "$root/build/ci-gcc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc

if [ -z "${TW_SKIP_ASAN:-}" ]; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite "$root/build/ci-asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DTW_SANITIZE=ON -DTW_FUZZ=ON -DTW_BUILD_BENCH=OFF
	secs=${TW_FUZZ_SECONDS:-10}
	if [ "$secs" -gt 0 ]; then
		for f in "$root"/build/ci-asan/tests/fuzz_*; do
			case "$f" in *_replay) continue ;; esac
			[ -x "$f" ] || continue
			name=$(basename "$f" | sed 's/^fuzz_//')
			echo "== libFuzzer $name for ${secs}s"
			work=$(mktemp -d)
			"$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" \
				"$work" "$root/tests/fuzz/corpus/$name" >"$work/log" 2>&1 || {
				tail -40 "$work/log"
				echo "libFuzzer found a failure in $name (inputs in $work)"
				exit 1
			}
			rm -rf "$work"
		done
	fi
fi
echo "== all tests passed"
