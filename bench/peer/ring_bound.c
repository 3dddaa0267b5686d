/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring_bound: what two busy-polling CPUs can move through a ring shaped
 * like a split virtqueue (virtio 1.2, 2.7), with nothing else in the way:
 * the bound a driver and a device thread on these two CPUs could reach.
 *
 * A producer thread (the driver) and a consumer thread (the device) share
 * a descriptor table of 16-byte descriptors (2.7.5), an avail ring of
 * 16-bit ids with its free-running index (2.7.6) and a used ring of
 * {id, len} entries with its index (2.7.8). The producer takes back what
 * the consumer returned (one read of used.idx), writes up to a burst of
 * descriptors and their ids, and publishes them with one store of
 * avail.idx; the consumer reads avail.idx once, reads each descriptor and
 * the first 64 bytes of its buffer (a device looks at the header), writes
 * the used entries and publishes them with one store of used.idx. No
 * notifications: both sides poll, as vnet and DPDK do here.
 *
 *   ring_bound [--seconds=1] [--warmup=0.2] [--cpus=0,1] [--ring=256]
 *              [--burst=32] [--padded]
 *
 * --padded puts each index on its own cache line instead of next to its
 * ring (the spec's layout shares the line). Prints one JSON line: the
 * slots the consumer returned per second over the window, and each
 * thread's share of its CPU over it (below ~0.97 the figure is not a
 * bound: something else ran there).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE 64
#define BUF_SIZE 2048
#define MAX_RING 32768
#define STOP_CHECK 64 /* polls between looks at the stop flag */

struct desc { /* 2.7.5 */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct used_elem { /* 2.7.8 */
	uint32_t id;
	uint32_t len;
};

struct ring {
	struct desc *desc;
	uint16_t *avail_idx, *avail_ring; /* spec: idx sits before ring[0] */
	uint16_t *used_idx;
	struct used_elem *used_ring;
	uint8_t *bufs;
	uint16_t size, burst;
	/* the consumer's count, on its own line */
	_Alignas(LINE) volatile uint64_t consumed;
	_Alignas(LINE) volatile int stop;
	_Alignas(LINE) uint64_t sink; /* keeps the header reads */
};

struct side {
	struct ring *r;
	int cpu;
	pthread_t th;
	int pin_err;
};

static void *zalloc(size_t n)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, n))
		return NULL;
	memset(p, 0, n);
	return p;
}

/* The spec's layout: flags, idx, ring[] (avail); flags, idx, ring[]
 * (used), each area aligned as 2.7 asks and more. */
static int ring_init(struct ring *r, uint16_t size, uint16_t burst, int padded)
{
	uint8_t *a, *u;

	memset(r, 0, sizeof(*r));
	r->size = size;
	r->burst = burst;
	r->desc = zalloc(sizeof(struct desc) * size);
	a = zalloc(LINE * 2 + sizeof(uint16_t) * (size + 3u));
	u = zalloc(LINE * 2 + sizeof(struct used_elem) * size + 8u);
	r->bufs = zalloc((size_t)BUF_SIZE * size);
	if (!r->desc || !a || !u || !r->bufs) {
		free(r->desc);
		free(a);
		free(u);
		free(r->bufs);
		return -ENOMEM;
	}
	r->avail_idx = (uint16_t *)(a + 2);
	r->avail_ring = padded ? (uint16_t *)(a + LINE) : (uint16_t *)(a + 4);
	r->used_idx = (uint16_t *)(u + 2);
	r->used_ring = padded ? (struct used_elem *)(u + LINE) : (struct used_elem *)(u + 4);
	return 0;
}

static void ring_free(struct ring *r)
{
	free(r->desc);
	free((uint8_t *)r->avail_idx - 2);
	free((uint8_t *)r->used_idx - 2);
	free(r->bufs);
}

static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return sched_setaffinity(0, sizeof(s), &s);
}

/* The driver: reclaim, post a burst, publish with one store. */
static void *producer(void *arg)
{
	struct side *sd = arg;
	struct ring *r = sd->r;
	uint16_t mask = (uint16_t)(r->size - 1), aidx = 0, seen = 0, nfree = r->size;
	uint16_t *free_ids = calloc(r->size, sizeof(uint16_t));
	uint64_t polls = 0;
	uint16_t i;

	if ((sd->pin_err = pin(sd->cpu)) || !free_ids) {
		sd->pin_err = sd->pin_err ? sd->pin_err : -ENOMEM;
		free(free_ids);
		return NULL;
	}
	for (i = 0; i < r->size; i++)
		free_ids[i] = i;
	for (;;) {
		uint16_t uidx = __atomic_load_n(r->used_idx, __ATOMIC_ACQUIRE), n;

		while (seen != uidx) { /* take back what the device returned */
			free_ids[nfree++] = (uint16_t)r->used_ring[seen & mask].id;
			seen++;
		}
		n = nfree < r->burst ? nfree : r->burst;
		for (i = 0; i < n; i++) {
			uint16_t id = free_ids[--nfree];
			struct desc *d = &r->desc[id];

			d->addr = (uint64_t)(uintptr_t)(r->bufs + (size_t)id * BUF_SIZE);
			d->len = 64;
			d->flags = 0;
			d->next = 0;
			r->avail_ring[(uint16_t)(aidx + i) & mask] = id;
		}
		if (n) {
			aidx = (uint16_t)(aidx + n);
			__atomic_store_n(r->avail_idx, aidx, __ATOMIC_RELEASE);
		}
		if ((++polls % STOP_CHECK) == 0 && r->stop)
			break;
	}
	free(free_ids);
	return NULL;
}

/* The device: read the posted ids, their descriptors and headers, return
 * them as used entries, publish with one store. */
static void *consumer(void *arg)
{
	struct side *sd = arg;
	struct ring *r = sd->r;
	uint16_t mask = (uint16_t)(r->size - 1), last = 0, uidx = 0;
	uint64_t polls = 0, n_total = 0, sum = 0;

	if ((sd->pin_err = pin(sd->cpu)))
		return NULL;
	for (;;) {
		uint16_t a = __atomic_load_n(r->avail_idx, __ATOMIC_ACQUIRE);
		uint16_t n = (uint16_t)(a - last), i;

		if (n > r->burst)
			n = r->burst;
		for (i = 0; i < n; i++) {
			uint16_t id = r->avail_ring[(uint16_t)(last + i) & mask];
			const struct desc *d = &r->desc[id];
			const uint64_t *h = (const uint64_t *)(uintptr_t)d->addr;
			struct used_elem *u = &r->used_ring[(uint16_t)(uidx + i) & mask];
			int k;

			for (k = 0; k < 8; k++) /* the frame's first 64 bytes */
				sum += h[k];
			u->id = id;
			u->len = d->len;
		}
		if (n) {
			last = (uint16_t)(last + n);
			uidx = (uint16_t)(uidx + n);
			__atomic_store_n(r->used_idx, uidx, __ATOMIC_RELEASE);
			n_total += n;
			r->consumed = n_total;
		}
		if ((++polls % STOP_CHECK) == 0 && r->stop)
			break;
	}
	r->sink = sum;
	return NULL;
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

struct opts {
	double seconds, warmup;
	int cpu[2];
	unsigned long ring, burst;
	int padded;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"seconds", required_argument, 0, 's'}, {"warmup", required_argument, 0, 'w'},
	                                   {"cpus", required_argument, 0, 'c'},    {"ring", required_argument, 0, 'r'},
	                                   {"burst", required_argument, 0, 'b'},   {"padded", no_argument, 0, 'p'},
	                                   {0, 0, 0, 0}};
	int c;

	*o = (struct opts){1.0, 0.2, {0, 1}, 256, 32, 0};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = atof(optarg);
			break;
		case 'w':
			o->warmup = atof(optarg);
			break;
		case 'c':
			if (sscanf(optarg, "%d,%d", &o->cpu[0], &o->cpu[1]) != 2)
				return -EINVAL;
			break;
		case 'r':
			o->ring = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			o->burst = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			o->padded = 1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc || o->seconds < 0.05 || o->seconds > 600 || o->warmup < 0 || o->warmup > 60 ||
	    o->ring < 2 || o->ring > MAX_RING || (o->ring & (o->ring - 1)) || o->burst < 1 || o->burst > o->ring ||
	    o->cpu[0] < 0 || o->cpu[1] < 0 || o->cpu[0] == o->cpu[1])
		return -EINVAL;
	return 0;
}

/* Start both sides, warm up, count the consumer's slots over the window
 * and each thread's CPU time, stop both. */
int main(int argc, char **argv)
{
	struct opts o;
	struct ring r;
	struct side sd[2];
	clockid_t ck[2];
	double t0, t1, c0[2], c1[2];
	uint64_t n0, n1;
	int i, err = 0;

	if (parse(argc, argv, &o)) {
		fprintf(stderr, "usage: ring_bound [--seconds=0.05..600] [--warmup=S] [--cpus=A,B] "
		                "[--ring=pow2<=%d] [--burst=1..ring] [--padded]\n", MAX_RING);
		return 2;
	}
	if (ring_init(&r, (uint16_t)o.ring, (uint16_t)o.burst, o.padded)) {
		fprintf(stderr, "ring_bound: out of memory\n");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		sd[i] = (struct side){.r = &r, .cpu = o.cpu[i]};
		if (pthread_create(&sd[i].th, NULL, i ? consumer : producer, &sd[i])) {
			fprintf(stderr, "ring_bound: pthread_create failed\n");
			r.stop = 1;
			if (i)
				pthread_join(sd[0].th, NULL);
			ring_free(&r);
			return 1;
		}
		pthread_getcpuclockid(sd[i].th, &ck[i]);
	}
	sleep_s(o.warmup);
	t0 = now_s(CLOCK_MONOTONIC);
	n0 = r.consumed;
	c0[0] = now_s(ck[0]);
	c0[1] = now_s(ck[1]);
	sleep_s(o.seconds);
	t1 = now_s(CLOCK_MONOTONIC);
	n1 = r.consumed;
	c1[0] = now_s(ck[0]);
	c1[1] = now_s(ck[1]);
	r.stop = 1;
	for (i = 0; i < 2; i++) {
		pthread_join(sd[i].th, NULL);
		if (sd[i].pin_err) {
			fprintf(stderr, "ring_bound: cannot run on cpu %d\n", sd[i].cpu);
			err = 1;
		}
	}
	if (!err)
		printf("{\"slots_per_s\":%.0f,\"mpps\":%.3f,\"seconds\":%.3f,\"producer_cpu\":%.3f,\"consumer_cpu\":%.3f,"
		       "\"ring\":%lu,\"burst\":%lu,\"layout\":\"%s\"}\n",
		       (double)(n1 - n0) / (t1 - t0), (double)(n1 - n0) / (t1 - t0) / 1e6, t1 - t0,
		       (c1[0] - c0[0]) / (t1 - t0), (c1[1] - c0[1]) / (t1 - t0), o.ring, o.burst,
		       o.padded ? "padded" : "spec");
	ring_free(&r);
	return err;
}
