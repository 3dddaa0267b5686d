/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo appliance: a bare-metal x86_64 image (QEMU -kernel, PVH) that
 * serves the network with vnet + lwIP:
 *   ICMP echo; TCP and UDP echo on port 7; lwiperf (iperf2 server) on 5001;
 *   UDP port 9: "quit" ends the appliance, "stats" prints its counters,
 *   "rxoff" turns the receive offloads off and "rxon" on again (with
 *   VNET_F_CTRL_GUEST_OFFLOADS);
 *   all of it over IPv4 and IPv6 (appliance.h: ip6=).
 * Command line: see appliance.h, plus timeout=SEC (0: run until told),
 * stats=SEC (print counters this often; 0: only at exit) and, where the
 * CPU can halt until the NIC interrupts (VNET_BAREMETAL_HAS_IDLE, and the
 * NIC's MSI-X or its line wired: appliance irq=on), idle=US (IDLE_DEFAULT_US; 0: never
 * halt): after US microseconds of polls that found nothing, the loop arms
 * the RX queue's notification, looks at the ring once more and halts until
 * the next frame or lwIP's next timer (at most IDLE_MAX_US). A polling
 * guest that never halts keeps a host CPU busy, which under QEMU takes it
 * from the device emulation and the peer; a halt costs the next frame one
 * interrupt's wake-up, so the loop spins first for about a round trip
 * (like Linux's busy polling) and halts only when traffic has paused.
 * TCP echo: conns=N connections are served at once (default: as many as a
 * quarter of the free heap holds, at most MAX_SERVED), each with a ring of
 * RING_BYTES for what it received but could not send yet. A connection
 * beyond them is accepted and waits, unread (lwIP keeps what it sent, and
 * its window closes), until a slot frees: none is reset for want of room.
 * When the peer shuts down its sending side, the rest is echoed and the
 * connection closed once all of it is acknowledged.
 * Prints "READY" when it serves; exits with status 0x10 (QEMU: 33).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/baremetal.h>

#include "appliance.h"
#include "lwip/apps/lwiperf.h"
#include "lwip/opt.h"

#define ECHO_PORT 7
#define CTL_PORT 9
/* Bytes a connection may hold while its peer reads slowly. The receive
 * window reopens only as bytes are echoed (manual window), so a
 * connection never holds more than TCP_WND. */
#define RING_BYTES (128u * 1024u)
#if TCP_WND > RING_BYTES
#error "RING_BYTES must hold a receive window (TCP_WND)"
#endif
#define MAX_SERVED 512u      /* conns=: at most this many served at once */
#define HEAP_SHARE 4u        /* ... and by default no more rings than 1/HEAP_SHARE of the free heap holds */
/* Every connection lwIP can hand over has an entry (served or waiting). */
#define MAX_ENTRIES MEMP_NUM_TCP_PCB
#define RETRY_US 1000u       /* connections stalled on lwIP's memory are retried this often */
#define IDLE_DEFAULT_US 200u /* idle=: spin this long without work before halting */
#define IDLE_MAX_US 5000u /* longest halt (timeouts and stats are checked after) */

enum { E_FREE, E_WAITING, E_SERVED };

struct echo_conn {
	struct vnet_tcp *c;
	uint8_t *buf; /* ring of bytes received but not yet accepted by send (served) */
	size_t head, len;
	int next, prev; /* waiting: the FIFO; free: the free list (next) */
	uint8_t state;
	bool fin;     /* the peer is done sending: close once all is echoed and acknowledged */
	bool stalled; /* bytes left and none in flight: no sent callback will come (retry_stalled) */
};
static struct echo_conn conns[MAX_ENTRIES];
static int free_head = -1, wait_head = -1, wait_tail = -1;
static unsigned max_served, n_served, n_waiting, n_stalled;
static uint8_t *ring_mem;            /* max_served rings of RING_BYTES, taken once at start */
static uint8_t *ring_free[MAX_SERVED];
static unsigned ring_free_n;
/* What happened to the connections (printed with the counters). */
static struct {
	unsigned long accepted, waited, finished, peer_ended, overrun, no_entry;
	unsigned served_peak, waiting_peak;
} cs;
/* Where the time goes: polls that did work vs all (a diagnostic for the
 * benchmarks: a guest busy near 100% is the bottleneck, one mostly idle
 * waits on the host). */
static uint64_t busy_ticks, start_ticks;
/* idle=: halts, those the timer ended and those the NIC's interrupt ended
 * (its handler counted one during the halt: vnet_irq_stats()) */
static unsigned long halts, timer_wakes, nic_wakes;
#ifdef VNET_BAREMETAL_HAS_IDLE
static struct vnet_irq_stats irq_last; /* the handlers' counts at the last report */
#endif

static uint64_t ticks(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return vnet_now_us();
#endif
}

static struct appliance app;

/* How the NIC interrupts: "MSI-X", "INTx" (PCI) or "line" (virtio-mmio's wired line). */
static const char *irq_kind(void)
{
	return app.irq_kind ? app.irq_kind : "MSI-X";
}

static void print_busy(void)
{
	uint64_t all = ticks() - start_ticks;

	printf("stats: guest busy %u.%u%% of the time since the last report; %lu halts (%lu ended by the "
	       "timer, %lu by the NIC's %s)",
	       all ? (unsigned)(busy_ticks * 100 / all) : 0u, all ? (unsigned)(busy_ticks * 1000 / all % 10) : 0u,
	       halts, timer_wakes, nic_wakes, irq_kind());
#ifdef VNET_BAREMETAL_HAS_IDLE
	{
		struct vnet_irq_stats is;

		vnet_irq_stats(&is);
		printf("; interrupts taken: NIC %s %llu, timer %llu, spurious %llu", irq_kind(),
		       (unsigned long long)(is.nic - irq_last.nic), (unsigned long long)(is.timer - irq_last.timer),
		       (unsigned long long)(is.spurious - irq_last.spurious));
		irq_last = is;
	}
#endif
	printf("\n");
	busy_ticks = 0;
	halts = timer_wakes = nic_wakes = 0;
	start_ticks = ticks();
}
static int quit;

static void set_stalled(struct echo_conn *e, bool on)
{
	if (e->stalled != on)
		n_stalled += on ? 1u : (unsigned)-1;
	e->stalled = on;
}

static void flush(struct echo_conn *e)
{
	/* bounded: each round sends or stops */
	for (int round = 0; round < 4 && e->len; round++) {
		size_t chunk = e->len;
		int n;
		if (e->head + chunk > RING_BYTES)
			chunk = RING_BYTES - e->head;
		n = vnet_tcp_send(e->c, e->buf + e->head, chunk);
		if (n <= 0)
			break;
		e->head = (e->head + (size_t)n) % RING_BYTES;
		e->len -= (size_t)n;
		vnet_tcp_recved(e->c, (size_t)n); /* room for as much more from the peer */
	}
	/* lwIP out of memory for this one (others hold it) and nothing in
	 * flight: no sent callback will call again, the main loop will */
	set_stalled(e, e->len > 0 && vnet_tcp_unacked(e->c) == 0);
}

/* Waiting connections: a FIFO through the entries. */
static void wait_push(struct echo_conn *e)
{
	int i = (int)(e - conns);

	e->next = -1;
	e->prev = wait_tail;
	if (wait_tail >= 0)
		conns[wait_tail].next = i;
	else
		wait_head = i;
	wait_tail = i;
	n_waiting++;
	if (n_waiting > cs.waiting_peak)
		cs.waiting_peak = n_waiting;
}

static void wait_unlink(struct echo_conn *e)
{
	if (e->prev >= 0)
		conns[e->prev].next = e->next;
	else
		wait_head = e->next;
	if (e->next >= 0)
		conns[e->next].prev = e->prev;
	else
		wait_tail = e->prev;
	n_waiting--;
}

static void on_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg);
static void on_sent(struct vnet_tcp *c, size_t acked, void *arg);
static void on_err(struct vnet_tcp *c, int err, void *arg);

/* Give @e a slot: a ring and the callbacks that read. lwIP's data kept for
 * it while it waited is handed over at the next poll. */
static void serve(struct echo_conn *e)
{
	e->buf = ring_free[--ring_free_n];
	e->head = e->len = 0;
	e->state = E_SERVED;
	n_served++;
	if (n_served > cs.served_peak)
		cs.served_peak = n_served;
	vnet_tcp_set_callbacks(e->c, on_recv, on_sent, on_err, e);
}

/* Serve waiting connections, oldest first, while slots are free. */
static void admit(void)
{
	unsigned guard = 0;

	while (wait_head >= 0 && n_served < max_served && ring_free_n > 0 && guard++ < MAX_ENTRIES) {
		struct echo_conn *w = &conns[wait_head];
		wait_unlink(w);
		serve(w);
	}
}

/* The connection is gone (closed, or ended by lwIP): its entry and slot
 * are free, and a waiting one takes the slot. */
static void conn_end(struct echo_conn *e)
{
	if (e->state == E_SERVED) {
		ring_free[ring_free_n++] = e->buf;
		n_served--;
	} else if (e->state == E_WAITING) {
		wait_unlink(e);
	}
	set_stalled(e, false);
	memset(e, 0, sizeof(*e));
	e->next = free_head;
	free_head = (int)(e - conns);
	admit();
}

/* Close once the peer is done sending and everything it sent was echoed
 * and acknowledged. @return true if it closed (@e is free then). */
static bool finish(struct echo_conn *e)
{
	if (!e->fin || e->len > 0 || vnet_tcp_unacked(e->c) > 0)
		return false;
	vnet_tcp_close(e->c);
	cs.finished++;
	conn_end(e);
	return true;
}

static void on_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct echo_conn *e = arg;
	size_t tail, first;

	(void)c;
	if (len == 0) { /* the peer shut down its side: echo the rest, then close */
		e->fin = true;
		flush(e);
		finish(e);
		return;
	}
	if (e->len + len > RING_BYTES) {
		/* cannot happen while the receive window (TCP_WND) fits in
		 * RING_BYTES: the peer may only send what we echoed */
		cs.overrun++;
		vnet_tcp_abort(e->c);
		conn_end(e);
		return;
	}
	tail = (e->head + e->len) % RING_BYTES;
	first = len < RING_BYTES - tail ? len : RING_BYTES - tail;
	memcpy(e->buf + tail, data, first);
	memcpy(e->buf, (const uint8_t *)data + first, len - first);
	e->len += len;
	flush(e);
}

static void on_sent(struct vnet_tcp *c, size_t acked, void *arg)
{
	struct echo_conn *e = arg;

	(void)c;
	(void)acked;
	flush(e);
	finish(e);
}

static void on_err(struct vnet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)err;
	cs.peer_ended++;
	conn_end(arg);
}

static void on_accept(struct vnet_tcp *c, void *arg)
{
	struct echo_conn *e;

	(void)arg;
	if (free_head < 0) { /* cannot happen: an entry for every lwIP PCB */
		cs.no_entry++;
		vnet_tcp_abort(c);
		return;
	}
	e = &conns[free_head];
	free_head = e->next;
	memset(e, 0, sizeof(*e));
	e->c = c;
	cs.accepted++;
	/* the window reopens as data is echoed, not as it arrives */
	vnet_tcp_set_manual_window(c, true);
	if (wait_head < 0 && n_served < max_served && ring_free_n > 0) {
		serve(e);
		return;
	}
	/* no slot: accepted, unread, until one frees (conn_end) */
	e->state = E_WAITING;
	cs.waited++;
	vnet_tcp_set_callbacks(c, NULL, NULL, on_err, e);
	wait_push(e);
}

/* Flush the connections that stalled on lwIP's memory (bounded scan). */
static void retry_stalled(void)
{
	unsigned i;

	for (i = 0; i < MAX_ENTRIES && n_stalled > 0; i++) {
		struct echo_conn *e = &conns[i];
		if (e->state != E_SERVED || !e->stalled)
			continue;
		flush(e);
		finish(e);
	}
}

/* Slots from conns= or the free heap, and their rings in one piece. */
static int conns_init(void)
{
	uint32_t want;
	unsigned i;

	for (i = MAX_ENTRIES; i > 0; i--) {
		conns[i - 1].next = free_head;
		free_head = (int)(i - 1);
	}
	want = (uint32_t)(vnet_heap_free() / HEAP_SHARE / RING_BYTES);
	want = appliance_arg_u32("conns", want > MAX_SERVED ? MAX_SERVED : want);
	if (want > MAX_SERVED)
		want = MAX_SERVED;
	if (want == 0)
		want = 1;
	ring_mem = malloc((size_t)want * RING_BYTES);
	if (ring_mem == NULL) {
		printf("echo: no memory for %u connection rings of %u KiB\n", (unsigned)want, RING_BYTES / 1024);
		return -1;
	}
	max_served = want;
	for (i = 0; i < want; i++)
		ring_free[ring_free_n++] = ring_mem + (size_t)i * RING_BYTES;
	printf("echo: tcp: %u connections served at once, %u KiB each (%u KiB), the rest wait; lwIP: %u PCBs, "
	       "%u KiB heap, %u segments, half-open bound %u per listener\n",
	       max_served, RING_BYTES / 1024, (unsigned)((size_t)max_served * RING_BYTES / 1024),
	       (unsigned)MEMP_NUM_TCP_PCB, (unsigned)(MEM_SIZE / 1024), (unsigned)MEMP_NUM_TCP_SEG,
	       (unsigned)VNET_TCP_HALF_OPEN_MAX);
	return 0;
}

static void print_conns(void)
{
	printf("stats: echo: %lu connections accepted, at most %u served at once (of %u), %lu waited for a slot "
	       "(at most %u at once, %u now), %lu finished after the peer's FIN, %lu ended by the peer, "
	       "%lu overruns, %lu refused for want of an entry\n",
	       cs.accepted, cs.served_peak, max_served, cs.waited, cs.waiting_peak, n_waiting, cs.finished,
	       cs.peer_ended, cs.overrun, cs.no_entry);
}

/* UDP on both address families: the reply goes back to the sender's. */
static void on_udp_echo(struct vnet_udp *u, const void *data, size_t len, const struct vnet_addr *src, void *arg)
{
	(void)arg;
	vnet_udp_sendto_addr(u, src, data, len);
}

static void on_udp_ctl(struct vnet_udp *u, const void *data, size_t len, const struct vnet_addr *src, void *arg)
{
	(void)u;
	(void)src;
	(void)arg;
	if (len >= 4 && !memcmp(data, "quit", 4))
		quit = 1;
	else if (len >= 5 && !memcmp(data, "rxoff", 5))
		appliance_rx_offloads(&app, 0);
	else if (len >= 4 && !memcmp(data, "rxon", 4))
		appliance_rx_offloads(&app, 1);
	else if (len >= 5 && !memcmp(data, "stats", 5)) {
		appliance_print_stats(&app);
		print_conns();
		print_busy();
	}
}

static void on_iperf(void *arg, enum lwiperf_report_type type, const ip_addr_t *la, u16_t lp,
                     const ip_addr_t *ra, u16_t rp, u32_t bytes, u32_t ms, u32_t kbps)
{
	(void)arg;
	(void)la;
	(void)lp;
	(void)ra;
	(void)rp;
	printf("lwiperf: report type %d: %lu bytes in %lu ms, %lu kbit/s\n", (int)type,
	       (unsigned long)bytes, (unsigned long)ms, (unsigned long)kbps);
}

/* Halt until the next frame or lwIP's next timer, unless lwIP has frames
 * waiting for TX room (TX completions do not interrupt). */
static void idle_wait(void)
{
#ifdef VNET_BAREMETAL_HAS_IDLE
	struct vnet_iface_stats s;
	uint32_t ms = vnet_iface_sleeptime_ms();
	uint32_t us = ms >= IDLE_MAX_US / 1000 ? IDLE_MAX_US : ms * 1000u;

	if (us == 0 || vnet_iface_stats(app.ifc, &s) || s.tx_queued)
		return;
	if (vnet_dev_rx_intr_enable(app.dev, 0) == 0) {
		struct vnet_irq_stats before, after;
		int rc;

		vnet_irq_stats(&before);
		rc = vnet_idle_wait(us);
		vnet_irq_stats(&after);
		if (rc >= 0) /* -1: no timer, nothing was done */
			halts++;
		if (rc == 1)
			timer_wakes++;
		else if (rc == 0 && after.nic != before.nic)
			nic_wakes++;
	}
	vnet_dev_rx_intr_disable(app.dev, 0);
#endif
}

int vnet_main(const char *cmdline)
{
	struct vnet_tcp_listener *l = NULL;
	struct vnet_udp *ue = NULL, *uc = NULL;
	uint64_t deadline = 0, next_stats = 0, stats_us;
	uint64_t idle_since = 0, last_retry = 0;
	uint32_t timeout_s, idle_us = 0;
	int rc;

	printf("echo: vnet %s, command line \"%s\"\n", vnet_version(), cmdline);
	rc = appliance_up(&app);
	if (rc)
		return 1;
	if (conns_init()) {
		appliance_down(&app);
		return 1;
	}
	timeout_s = appliance_arg_u32("timeout", 0);
	stats_us = (uint64_t)appliance_arg_u32("stats", 0) * 1000000u;
	vnet_iface_enable_icmp(app.ifc, true);
	if ((rc = vnet_tcp_listen(app.ifc, ECHO_PORT, on_accept, NULL, &l)) ||
	    (rc = vnet_udp_bind_addr(app.ifc, ECHO_PORT, on_udp_echo, NULL, &ue)) ||
	    (rc = vnet_udp_bind_addr(app.ifc, CTL_PORT, on_udp_ctl, NULL, &uc)) ||
	    /* IP_ANY_TYPE: iperf over IPv4 and IPv6 (iperf -V) */
	    (lwiperf_start_tcp_server(IP_ANY_TYPE, LWIPERF_TCP_PORT_DEFAULT, on_iperf, NULL) == NULL && (rc = -12))) {
		printf("echo: cannot listen: %s\n", vnet_strerror(rc));
		appliance_down(&app);
		free(ring_mem);
		return 1;
	}
	if (timeout_s)
		deadline = vnet_now_us() + (uint64_t)timeout_s * 1000000u;
	if (stats_us)
		next_stats = vnet_now_us() + stats_us;
	printf("READY ip=%u.%u.%u.%u transport=%s\n", app.ip >> 24, (app.ip >> 16) & 255, (app.ip >> 8) & 255,
	       app.ip & 255, app.transport);
	start_ticks = ticks();
#ifdef VNET_BAREMETAL_HAS_IDLE
	vnet_irq_stats(&irq_last);
	if (app.irq)
		idle_us = appliance_arg_u32("idle", IDLE_DEFAULT_US);
#endif
	if (idle_us)
		printf("echo: when idle for %u us: halt until the next frame (%s) or timer\n", (unsigned)idle_us,
		       irq_kind());
	else
		printf("echo: when idle: spin\n");
	while (!quit) {
		uint64_t t0 = ticks();
		int w = vnet_iface_poll(app.ifc);

		if (w > 0) {
			busy_ticks += ticks() - t0;
			idle_since = 0;
		}
		if (n_stalled > 0) {
			uint64_t now = vnet_now_us();
			if (now - last_retry >= RETRY_US) {
				last_retry = now;
				retry_stalled();
			}
		}
		if (w < 0) { /* the device broke the protocol or asked for a reset */
			printf("echo: device needs recovery: %s\n", vnet_strerror(vnet_dev_recover(app.dev)));
			app.recoveries++; /* in the counters (appliance_print_stats) */
			if (app.recoveries > 100)
				break;
		}
		if (w == 0) {
			uint64_t now = vnet_now_us();
			if (deadline && now >= deadline) {
				printf("echo: timeout after %u s\n", (unsigned)timeout_s);
				break;
			}
			if (next_stats && now >= next_stats) {
				appliance_print_stats(&app);
				print_conns();
				print_busy();
				next_stats = now + stats_us;
			}
			/* idle=: halt once nothing came for idle_us */
			if (idle_us && (idle_since == 0 || n_stalled > 0)) {
				idle_since = now;
			} else if (idle_us && now - idle_since >= idle_us) {
				idle_wait();
				idle_since = 0;
			}
		}
	}
	appliance_print_stats(&app);
	print_conns();
	print_busy();
	printf("echo: %s, %lu connections dropped for overrun, %lu recoveries\n", quit ? "quit" : "stopped",
	       cs.overrun, app.recoveries);
	vnet_udp_close(ue);
	vnet_udp_close(uc);
	vnet_tcp_listener_close(l);
	appliance_down(&app);
	free(ring_mem);
	printf("PASS echo exit\n");
	return VNET_EXIT_SUCCESS;
}
