/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Cross-CPU cache-line round trip between two CPUs (default 0 and 1), and
 * the TSC rate: the two numbers to record beside every peer benchmark rate
 * (the round trip says where the host placed the two vCPUs). Prints: rtt_ns=<median of 5> tsc_mhz=<rate>.
 *   cc -O2 -pthread xcpu_rtt.c -o xcpu_rtt && ./xcpu_rtt [cpuA cpuB]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 200000

static _Alignas(64) volatile uint64_t line;
static int cpu_b;

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *pong(void *arg)
{
	uint64_t i;
	(void)arg;
	pin(cpu_b);
	for (i = 0; i < ITERS; i++) {
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

int main(int argc, char **argv)
{
	int cpu_a = argc > 2 ? atoi(argv[1]) : 0, r;
	double rtt[5];
	uint64_t c0, c1, t0, t1;
	struct timespec ts = {0, 100000000};

	cpu_b = argc > 2 ? atoi(argv[2]) : 1;
	pin(cpu_a);
	for (r = 0; r < 5; r++) {
		pthread_t th;
		uint64_t i, s, e;
		line = 0;
		pthread_create(&th, NULL, pong, NULL);
		s = now_ns();
		for (i = 0; i < ITERS; i++) {
			uint64_t w = now_ns();
			line = 2 * i + 1;
			while (line != 2 * i + 2)
				if (now_ns() - w > 1000000000u)
					goto stalled;
		}
		e = now_ns();
		pthread_join(th, NULL);
		rtt[r] = (double)(e - s) / ITERS;
	}
	if (0) {
stalled:
		fprintf(stderr, "xcpu_rtt: the other CPU stalled for 1 s\n");
		return 1;
	}
	qsort(rtt, 5, sizeof(rtt[0]), cmp);
	t0 = now_ns();
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&ts, NULL);
	c1 = __builtin_ia32_rdtsc();
	t1 = now_ns();
	printf("rtt_ns=%.0f tsc_mhz=%.0f\n", rtt[2], (double)(c1 - c0) * 1000.0 / (double)(t1 - t0));
	return 0;
}
