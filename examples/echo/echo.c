/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo appliance: a bare-metal x86_64 image (QEMU -kernel, PVH) that
 * serves the network with vnet + lwIP:
 *   ICMP echo; TCP and UDP echo on port 7; lwiperf (iperf2 server) on 5001;
 *   UDP port 9: "quit" ends the appliance, "stats" prints its counters;
 *   all of it over IPv4 and IPv6 (appliance.h: ip6=).
 * Command line: see appliance.h, plus timeout=SEC (0: run until told),
 * stats=SEC (print counters this often; 0: only at exit) and, where the
 * CPU can halt until the NIC interrupts (VNET_BAREMETAL_HAS_IDLE, and the
 * NIC's MSI-X wired: appliance irq=on), idle=US (IDLE_DEFAULT_US; 0: never
 * halt): after US microseconds of polls that found nothing, the loop arms
 * the RX queue's notification, looks at the ring once more and halts until
 * the next frame or lwIP's next timer (at most IDLE_MAX_US). A polling
 * guest that never halts keeps a host CPU busy, which under QEMU takes it
 * from the device emulation and the peer; a halt costs the next frame one
 * interrupt's wake-up, so the loop spins first for about a round trip
 * (like Linux's busy polling) and halts only when traffic has paused.
 * Prints "READY" when it serves; exits with status 0x10 (QEMU: 33).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/baremetal.h>

#include "appliance.h"
#include "lwip/apps/lwiperf.h"

#define ECHO_PORT 7
#define CTL_PORT 9
#define MAX_CONNS 16
#define PENDING (256 * 1024) /* bytes a connection may hold while its peer reads slowly */
#define IDLE_DEFAULT_US 200u /* idle=: spin this long without work before halting */
#define IDLE_MAX_US 5000u /* longest halt (timeouts and stats are checked after) */

struct echo_conn {
	struct vnet_tcp *c;
	uint8_t *buf; /* ring of bytes received but not yet accepted by send */
	size_t head, len;
};

static struct echo_conn conns[MAX_CONNS];
/* Where the time goes: polls that did work vs all (a diagnostic for the
 * benchmarks: a guest busy near 100% is the bottleneck, one mostly idle
 * waits on the host). */
static uint64_t busy_ticks, start_ticks;
static unsigned long halts, timer_wakes; /* idle=: halts, and those the timer ended */

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

static void print_busy(void)
{
	uint64_t all = ticks() - start_ticks;

	printf("stats: guest busy %u.%u%% of the time since the last report; %lu halts (%lu ended by the "
	       "timer, the rest by the NIC)\n",
	       all ? (unsigned)(busy_ticks * 100 / all) : 0u, all ? (unsigned)(busy_ticks * 1000 / all % 10) : 0u,
	       halts, timer_wakes);
	busy_ticks = 0;
	halts = timer_wakes = 0;
	start_ticks = ticks();
}
static struct appliance app;
static int quit;
static unsigned long tcp_dropped_conns;

static void flush(struct echo_conn *e)
{
	/* bounded: each round sends or stops */
	for (int round = 0; round < 4 && e->len; round++) {
		size_t chunk = e->len;
		int n;
		if (e->head + chunk > PENDING)
			chunk = PENDING - e->head;
		n = vnet_tcp_send(e->c, e->buf + e->head, chunk);
		if (n <= 0)
			return;
		e->head = (e->head + (size_t)n) % PENDING;
		e->len -= (size_t)n;
		vnet_tcp_recved(e->c, (size_t)n); /* room for as much more from the peer */
	}
}

static void conn_free(struct echo_conn *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

static void on_recv(struct vnet_tcp *c, const void *data, size_t len, void *arg)
{
	struct echo_conn *e = arg;
	size_t tail, first;

	if (len == 0) { /* peer closed: send what is left, then close */
		flush(e);
		vnet_tcp_close(c);
		conn_free(e);
		return;
	}
	if (e->len + len > PENDING) {
		/* cannot happen while the receive window (lwipopts.h TCP_WND)
		 * is below PENDING: the peer may only send what we echoed */
		tcp_dropped_conns++;
		vnet_tcp_abort(c);
		conn_free(e);
		return;
	}
	tail = (e->head + e->len) % PENDING;
	first = len < PENDING - tail ? len : PENDING - tail;
	memcpy(e->buf + tail, data, first);
	memcpy(e->buf, (const uint8_t *)data + first, len - first);
	e->len += len;
	flush(e);
}

static void on_sent(struct vnet_tcp *c, size_t acked, void *arg)
{
	(void)c;
	(void)acked;
	flush(arg);
}

static void on_err(struct vnet_tcp *c, int err, void *arg)
{
	(void)c;
	(void)err;
	conn_free(arg);
}

static void on_accept(struct vnet_tcp *c, void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < MAX_CONNS; i++) {
		if (!conns[i].c) {
			conns[i].buf = malloc(PENDING);
			if (!conns[i].buf)
				break;
			conns[i].c = c;
			vnet_tcp_set_callbacks(c, on_recv, on_sent, on_err, &conns[i]);
			/* the window reopens as data is echoed, not as it arrives */
			vnet_tcp_set_manual_window(c, true);
			return;
		}
	}
	vnet_tcp_abort(c); /* no room */
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
	else if (len >= 5 && !memcmp(data, "stats", 5)) {
		appliance_print_stats(&app);
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
		halts++;
		if (vnet_idle_wait(us) == 1)
			timer_wakes++;
	}
	vnet_dev_rx_intr_disable(app.dev, 0);
#endif
}

int vnet_main(const char *cmdline)
{
	struct vnet_tcp_listener *l = NULL;
	struct vnet_udp *ue = NULL, *uc = NULL;
	uint64_t deadline = 0, next_stats = 0, stats_us;
	uint64_t idle_since = 0;
	uint32_t timeout_s, idle_us = 0;
	unsigned long recovered = 0;
	int rc;

	printf("echo: vnet %s, command line \"%s\"\n", vnet_version(), cmdline);
	rc = appliance_up(&app);
	if (rc)
		return 1;
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
	if (app.irq)
		idle_us = appliance_arg_u32("idle", IDLE_DEFAULT_US);
#endif
	if (idle_us)
		printf("echo: when idle for %u us: halt until the next frame (MSI-X) or timer\n", (unsigned)idle_us);
	else
		printf("echo: when idle: spin\n");
	while (!quit) {
		uint64_t t0 = ticks();
		int w = vnet_iface_poll(app.ifc);

		if (w > 0) {
			busy_ticks += ticks() - t0;
			idle_since = 0;
		}
		if (w < 0) { /* the device broke the protocol or asked for a reset */
			printf("echo: device needs recovery: %s\n", vnet_strerror(vnet_dev_recover(app.dev)));
			recovered++;
			if (recovered > 100)
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
				print_busy();
				next_stats = now + stats_us;
			}
			/* idle=: halt once nothing came for idle_us */
			if (idle_us && idle_since == 0) {
				idle_since = now;
			} else if (idle_us && now - idle_since >= idle_us) {
				idle_wait();
				idle_since = 0;
			}
		}
	}
	appliance_print_stats(&app);
	print_busy();
	printf("echo: %s, %lu connections dropped for overrun, %lu recoveries\n", quit ? "quit" : "stopped",
	       tcp_dropped_conns, recovered);
	vnet_udp_close(ue);
	vnet_udp_close(uc);
	vnet_tcp_listener_close(l);
	appliance_down(&app);
	printf("PASS echo exit\n");
	return VNET_EXIT_SUCCESS;
}
