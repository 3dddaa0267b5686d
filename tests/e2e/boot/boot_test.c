/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Smoke test of the bare-metal environment: command line, heap, libc,
 * TSC rate and delays. Prints PASS and exits with VNET_EXIT_SUCCESS (QEMU
 * status 33) when everything holds; run.sh checks both.
 *
 * `-append crash` instead executes ud2, to check that exceptions are
 * reported and end QEMU with VNET_EXIT_CRASH (status 253).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vnet/baremetal.h>

#include "base/platform.h"

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                              \
		}                                                                \
	} while (0)

static void check_fmt(const char *want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_fmt(const char *want, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strcmp(buf, want) != 0 || n != (int)strlen(want)) {
		printf("FAIL format \"%s\": got \"%s\" (%d), want \"%s\"\n", fmt, buf, n, want);
		failures++;
	}
}

static void test_cmdline(const char *cmdline)
{
	char v[16];

	printf("cmdline: \"%s\"\n", cmdline);
	CHECK(strcmp(cmdline, vnet_cmdline()) == 0);
	if (vnet_cmdline_get("greeting", NULL, 0) != 0)
		return; /* booted without run.sh's arguments: nothing to compare */
	CHECK(vnet_cmdline_get("greeting", v, sizeof(v)) == 0 && strcmp(v, "hello") == 0);
	CHECK(vnet_cmdline_get("quoted", v, sizeof(v)) == 0 && strcmp(v, "a b") == 0);
	CHECK(vnet_cmdline_get("flag", v, sizeof(v)) == 0 && v[0] == '\0');
	CHECK(vnet_cmdline_get("greet", v, sizeof(v)) == -ENOENT);
	CHECK(vnet_cmdline_get("greeting", v, 3) == -ERANGE && strcmp(v, "he") == 0);
}

static void test_heap(void)
{
	enum { N = 64 };
	void *p[N];
	size_t before = vnet_heap_free();
	struct vnet_dma d;

	CHECK(before > (1u << 20));
	for (int i = 0; i < N; i++) {
		size_t n = 1 + (size_t)(i * 37 % 1000);

		p[i] = malloc(n);
		CHECK(p[i] != NULL && ((uintptr_t)p[i] & 15) == 0);
		if (p[i])
			memset(p[i], i, n);
	}
	for (int i = 0; i < N; i += 2) /* free every other one, then the rest */
		free(p[i]);
	for (int i = 1; i < N; i += 2) {
		CHECK(((unsigned char *)p[i])[0] == (unsigned char)i);
		free(p[i]);
	}
	CHECK(vnet_heap_free() == before); /* all coalesced back */

	p[0] = aligned_alloc(4096, 100);
	p[1] = aligned_alloc(1 << 21, 5000);
	p[2] = calloc(1000, 4);
	p[3] = realloc(NULL, 10);
	CHECK(p[0] && ((uintptr_t)p[0] & 4095) == 0);
	CHECK(p[1] && ((uintptr_t)p[1] & ((1 << 21) - 1)) == 0);
	CHECK(p[2] && ((char *)p[2])[3999] == 0);
	CHECK(p[3] != NULL);
	if (p[3]) {
		memcpy(p[3], "0123456789", 10);
		p[3] = realloc(p[3], 5000);
		CHECK(p[3] && memcmp(p[3], "0123456789", 10) == 0);
	}
	for (int i = 0; i < 4; i++)
		free(p[i]);
	CHECK(vnet_heap_free() == before);

	/* One block of almost the whole heap: only possible if it coalesced. */
	p[0] = malloc(before - 4096);
	CHECK(p[0] != NULL);
	free(p[0]);
	CHECK(malloc(before * 2) == NULL && errno == ENOMEM);

	CHECK(vnet_dma_alloc(&d, 3 * 4096, 4096) == 0);
	CHECK(d.va && d.iova == (uintptr_t)d.va && (d.iova & 4095) == 0 && d.fd == -1);
	CHECK(d.va && ((unsigned char *)d.va)[3 * 4096 - 1] == 0);
	vnet_dma_free(&d);
	CHECK(vnet_dma_alloc(&d, 64, 3) == -EINVAL);
	CHECK(vnet_heap_free() == before);
}

static void test_format(void)
{
	char buf[8];

	check_fmt("-42|   42|42   |00042|+5| 5", "%d|%5d|%-5d|%05d|%+d|% d", -42, 42, 42, 42, 5, 5);
	check_fmt("-2147483648 4294967295", "%i %u", INT_MIN, UINT_MAX);
	check_fmt("ff FF 0xff 0377 00042", "%x %X %#x %#o %.5d", 255, 255, 255, 255, 42);
	check_fmt("-9223372036854775808 18446744073709551615 deadbeefcafe",
	          "%ld %lu %lx", LONG_MIN, ULONG_MAX, 0xdeadbeefcafeul);
	check_fmt("-1 18446744073709551615 ffffffffffffffff", "%lld %llu %llx", -1LL, ~0ULL, ~0ULL);
	check_fmt("123 -7 1 -1", "%zu %zd %hhu %hd", (size_t)123, (ptrdiff_t)-7, 257, 65535);
	check_fmt("abc|ab|ab    |    ab|x|%", "%s|%.2s|%-6s|%6s|%c|%%", "abc", "abc", "ab", "ab", 'x');
	check_fmt("0x1000 (nil) (null)", "%p %p %s", (void *)0x1000, (void *)0, (char *)NULL);
	check_fmt("  0x00ff", "%#8.4x", 255);
	check_fmt("3.142 -0.500000     2.50 -007.0", "%.3f %f %8.2f %06.1f", 3.14159, -0.5, 2.5, -7.0);
	check_fmt("[   7] [7   ] [0007]", "[%*d] [%-*d] [%0*d]", 4, 7, 4, 7, 4, 7);
	check_fmt("u64 18446744073709551615", "u64 %" PRIu64, UINT64_MAX);
	CHECK(snprintf(buf, 5, "hello world") == 11 && strcmp(buf, "hell") == 0);
	CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
}

static void test_string(void)
{
	unsigned char a[96], ref[96];
	char *end;

	/* memmove both ways over every small offset and length, against a
	 * byte-by-byte reference; memcpy on disjoint buffers. */
	for (int off = -12; off <= 12; off++) {
		for (int len = 0; len <= 64; len += 3) {
			int src = 16, dst = 16 + off;

			for (int i = 0; i < 96; i++)
				a[i] = ref[i] = (unsigned char)(i * 7 + 1);
			if (dst < src)
				for (int i = 0; i < len; i++)
					ref[dst + i] = ref[src + i];
			else
				for (int i = len - 1; i >= 0; i--)
					ref[dst + i] = ref[src + i];
			memmove(a + dst, a + src, (size_t)len);
			if (memcmp(a, ref, sizeof(a)) != 0) {
				printf("FAIL memmove off=%d len=%d\n", off, len);
				failures++;
			}
		}
	}
	for (int i = 0; i < 96; i++)
		a[i] = (unsigned char)i;
	memcpy(ref + 3, a + 1, 80);
	CHECK(memcmp(ref + 3, a + 1, 80) == 0);
	memset(a + 5, 0xab, 70);
	CHECK(a[4] == 4 && a[5] == 0xab && a[74] == 0xab && a[75] == 75);

	CHECK(strcmp("abc", "abd") < 0 && strncmp("abc", "abd", 2) == 0);
	CHECK(strstr("hello world", "o w") != NULL && strstr("abc", "abd") == NULL);
	CHECK(strrchr("a/b/c", '/')[1] == 'c' && strchr("abc", 'z') == NULL);
	CHECK(strnlen("abcdef", 3) == 3);
	CHECK(strtoul("0x1F", &end, 0) == 31 && *end == '\0');
	CHECK(strtol("-123abc", &end, 10) == -123 && *end == 'a');
	CHECK(strtoul("99999999999999999999", NULL, 10) == ULONG_MAX && errno == ERANGE);
	CHECK(atoi("  42") == 42 && abs(-3) == 3);
	CHECK(isxdigit('F') && !isxdigit('g') && isspace('\t') && toupper('q') == 'Q');
}

static void test_time(void)
{
	uint64_t hz = vnet_cycles_hz(), t0, t1, us0, us1;

	printf("tsc: %" PRIu64 " Hz\n", hz);
	/* TSC ~GHz; aarch64 virt's generic timer 62.5 MHz; riscv64 virt 10 MHz */
	CHECK(hz >= 1000000ull && hz <= 10000000000ull);

	t0 = vnet_cycles();
	us0 = vnet_now_us();
	vnet_delay_us(20000);
	t1 = vnet_cycles();
	us1 = vnet_now_us();
	/* At least the delay; not wildly more (host preemption under TCG
	 * can stretch it, so the upper bound is generous). */
	CHECK(t1 - t0 >= hz / 50);
	CHECK(t1 - t0 < hz / 50 * 5);
	CHECK(us1 - us0 >= 19900 && us1 - us0 < 100000);
	printf("delay 20000 us: %" PRIu64 " us by now_us, %" PRIu64 " cycles\n", us1 - us0, t1 - t0);
}

int vnet_main(const char *cmdline)
{
	if (vnet_cmdline_get("crash", NULL, 0) == 0) {
		printf("crashing on purpose\n");
		__builtin_trap(); /* x86_64 ud2, aarch64 brk, riscv64 ebreak */
	}
	printf("boot_test: RAM %" PRIu64 " MiB, heap free %zu KiB\n", vnet_ram_size() >> 20,
	       vnet_heap_free() >> 10);
	test_cmdline(cmdline);
	test_heap();
	test_format();
	test_string();
	test_time();
	if (failures) {
		printf("FAILED: %d check(s)\n", failures);
		return 1;
	}
	printf("PASS\n");
	return VNET_EXIT_SUCCESS;
}
