/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-CPU cache-line round trip between two CPUs (default 0 and 1), and
 * the cycle counter's rate: the two numbers to record beside every peer
 * benchmark rate (the round trip says where the host placed the two
 * vCPUs). Prints: rtt_ns=<median of the repetitions> tsc_mhz=<rate>.
 *   xcpu_rtt [cpuA cpuB [iterations repetitions]]
 * The defaults (200000 x 5, about 0.5 s) give a steady figure; the
 * comparison (compare.sh) takes a short one (20000 x 3, a few tens of ms)
 * before and after each window.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_REPS 15

static _Alignas(64) volatile uint64_t line;
static int cpu_b;
static uint64_t iters = 200000;

static int pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The cycle counter where there is one to read without a system call. */
static uint64_t cycles(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
	uint64_t v;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#else
	return now_ns();
#endif
}

static void *pong(void *arg)
{
	uint64_t i;
	(void)arg;
	if (pin(cpu_b))
		return NULL;
	for (i = 0; i < iters; i++) {
		uint64_t t0 = now_ns();
		while (line != 2 * i + 1)
			if (now_ns() - t0 > 1000000000u)
				return NULL; /* bounded: the other side stalled */
		line = 2 * i + 2;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One repetition's mean round trip in ns; < 0 when a side stalled. */
static double one_rep(void)
{
	pthread_t th;
	uint64_t i, s, e;

	line = 0;
	if (pthread_create(&th, NULL, pong, NULL))
		return -1;
	s = now_ns();
	for (i = 0; i < iters; i++) {
		uint64_t w = now_ns();
		line = 2 * i + 1;
		while (line != 2 * i + 2)
			if (now_ns() - w > 1000000000u) {
				pthread_join(th, NULL);
				return -1;
			}
	}
	e = now_ns();
	pthread_join(th, NULL);
	return (double)(e - s) / (double)iters;
}

int main(int argc, char **argv)
{
	int cpu_a = argc > 2 ? atoi(argv[1]) : 0, r, reps = argc > 4 ? atoi(argv[4]) : 5;
	double rtt[MAX_REPS];
	uint64_t c0, c1, t0, t1;
	struct timespec ts = {0, 20000000};

	cpu_b = argc > 2 ? atoi(argv[2]) : 1;
	if (argc > 3)
		iters = strtoull(argv[3], NULL, 0);
	if (argc == 2 || argc == 4 || iters < 100 || iters > 100000000 || reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: xcpu_rtt [cpuA cpuB [iterations(100..1e8) repetitions(1..%d)]]\n", MAX_REPS);
		return 2;
	}
	if (pin(cpu_a)) {
		perror("xcpu_rtt: sched_setaffinity");
		return 1;
	}
	for (r = 0; r < reps; r++)
		if ((rtt[r] = one_rep()) < 0) {
			fprintf(stderr, "xcpu_rtt: the other CPU stalled for 1 s\n");
			return 1;
		}
	qsort(rtt, (size_t)reps, sizeof(rtt[0]), cmp);
	t0 = now_ns();
	c0 = cycles();
	nanosleep(&ts, NULL);
	c1 = cycles();
	t1 = now_ns();
	printf("rtt_ns=%.0f tsc_mhz=%.0f\n", rtt[reps / 2], (double)(c1 - c0) * 1000.0 / (double)(t1 - t0));
	return 0;
}
