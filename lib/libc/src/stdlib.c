/* SPDX-License-Identifier: BSD-3-Clause */
/* stdlib.h: number parsing, rand, qsort, and the ways out (abort/exit). */
#define VNET_LIBC_IMPL 1
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vnet/baremetal.h>

#include "../env.h"

int errno;

/*
 * strtoull's core (C11 7.22.1.4): optional space and sign, 0x/0 prefixes
 * for base 0 or 16. Saturates at @max (as a magnitude) with ERANGE; *neg
 * tells the caller whether a '-' was seen.
 */
static unsigned long long parse(const char *s, char **end, int base,
                                unsigned long long max, int *neg)
{
	const char *p = s;
	unsigned long long v = 0;
	int any = 0, over = 0;

	*neg = 0;
	if (base < 0 || base == 1 || base > 36) {
		errno = EINVAL;
		if (end)
			*end = (char *)s;
		return 0;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 0x20) == 'x' && isxdigit((unsigned char)p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	for (;; p++) {
		int c = (unsigned char)*p, d;

		if (isdigit(c))
			d = c - '0';
		else if (isalpha(c))
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		any = 1;
		if (v > (max - (unsigned)d) / (unsigned)base)
			over = 1;
		else
			v = v * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)(any ? p : s);
	if (over) {
		errno = ERANGE;
		return max;
	}
	return v;
}

unsigned long long strtoull(const char *restrict s, char **restrict end, int base)
{
	int neg;
	unsigned long long v = parse(s, end, base, ULLONG_MAX, &neg);

	/* C11: a negated result is returned for "-N", wrapping like a cast. */
	return neg && v != ULLONG_MAX ? -v : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	return strtoull(s, end, base);
}

long long strtoll(const char *restrict s, char **restrict end, int base)
{
	int neg;
	/* The magnitude of LLONG_MIN is one more than LLONG_MAX. */
	unsigned long long v = parse(s, end, base, (unsigned long long)LLONG_MAX + 1, &neg);

	if (!neg && v > (unsigned long long)LLONG_MAX) {
		errno = ERANGE;
		return LLONG_MAX;
	}
	if (neg)
		return v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	return (long long)v;
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	return strtoll(s, end, base);
}

int atoi(const char *s)
{
	long v = strtol(s, NULL, 10);

	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

long atol(const char *s)
{
	return strtol(s, NULL, 10);
}

int abs(int v)
{
	return v < 0 ? -v : v;
}

long labs(long v)
{
	return v < 0 ? -v : v;
}

long long llabs(long long v)
{
	return v < 0 ? -v : v;
}

/* xorshift64*: small, fast, good enough for jitter and test data. */
static uint64_t rand_state = 0x9e3779b97f4a7c15ull;

void srand(unsigned seed)
{
	rand_state = 0x9e3779b97f4a7c15ull ^ seed;
	if (!rand_state)
		rand_state = 1;
}

int rand(void)
{
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (int)((rand_state * 0x2545f4914f6cdd1dull) >> 33);
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n)
{
	while (n--) {
		unsigned char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Move the element at @root down until the max-heap property holds. */
static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;

	if (n < 2 || size == 0)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}

void exit(int status)
{
	vnet_exit(status);
}

void abort(void)
{
	static const char msg[] = "abort() called\n";

	vnet_console_write(msg, sizeof(msg) - 1);
	vnet_exit(VNET_EXIT_ABORT);
}

void vnet_libc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	printf("assertion \"%s\" failed: %s:%d (%s)\n", expr, file, line, func);
	vnet_exit(VNET_EXIT_ABORT);
}
