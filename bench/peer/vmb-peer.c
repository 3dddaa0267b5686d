/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vmb-peer: the host side of a tap for bench/vm/run.sh.
 *
 *   vmb-peer sink    --iface tap0 [--warmup S] [--duration S] [--wait S]
 *   vmb-peer gen     --iface tap0 --dst MAC [--frame N] [--burst N] [--rate PPS]
 *                    [--warmup S] [--duration S] [--tail S] [--flows N]
 *   vmb-peer fwd     (gen, and count what comes back)
 *   vmb-peer ping    --iface tap0 --dst MAC [--frame N] [--warmup S] [--duration S]
 *                    [--timeout-ms N] [--hist FILE]
 *   vmb-peer reflect --iface tap0 [--duration S]
 *
 * sink counts frames arriving on the interface (AF_PACKET, TPACKET_V3 RX
 * ring, 128-byte snap), over a window that opens --warmup seconds after
 * the first IPv4/UDP-port-9 frame and lasts --duration seconds, using the
 * kernel's receive timestamps; it also reads the interface's counters
 * (what QEMU wrote into the tap) over the same window. gen sends frames
 * shaped like the guest's (bench/core/frame.c) with sendmmsg and reads
 * the tap's tx counters (what QEMU read out of it) in [warmup,
 * warmup+duration]; with --flows N its frames cycle through N UDP source
 * ports (10000..), so that a multiqueue tap spreads them over its queues
 * by flow hash. ping times round trips through a guest that reflects
 * (vnet-bench-bm mode=forward); reflect swaps the MACs of the guest's
 * latency probes and sends them back. Output: bench/core/out.c's JSON lines and
 * table. Every loop is bounded by the clock and a count.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vnet/vnet.h>

#include "core/frame.h"
#include "core/hist.h"
#include "core/out.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define RING_BLOCK (1u << 20)
#define RING_BLOCKS 64
#define RING_FRAME 2048
#define SNAP 128
#define GEN_BATCH_MAX 256
#define GEN_FLOWS_MAX 64
#define GEN_SPORT 10000
#define MAX_LOOPS 100000000ull

struct peer_opts {
	const char *mode, *iface, *hist_file, *label;
	uint8_t dst[6];
	int have_dst;
	uint32_t frame, burst, flows;
	double warmup, duration, wait, tail, rate;
	uint32_t timeout_ms;
};

struct counters {
	uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped;
};

struct rx_ring {
	int fd;
	uint8_t *map;
	size_t len;
	unsigned next;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t read_stat(const char *iface, const char *name)
{
	char path[256], line[32], *end;
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", iface, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		v = strtoull(line, &end, 10);
		if (end == line)
			v = 0;
	}
	fclose(f);
	return v;
}

static void read_counters(const char *iface, struct counters *c)
{
	c->rx_packets = read_stat(iface, "rx_packets");
	c->rx_dropped = read_stat(iface, "rx_dropped");
	c->tx_packets = read_stat(iface, "tx_packets");
	c->tx_dropped = read_stat(iface, "tx_dropped");
}

/* Where sendto() puts a frame: @dst on interface @ifindex. */
static void packet_dest(struct sockaddr_ll *to, int ifindex, const uint8_t dst[6])
{
	memset(to, 0, sizeof(*to));
	to->sll_family = AF_PACKET;
	to->sll_ifindex = ifindex;
	to->sll_halen = 6;
	memcpy(to->sll_addr, dst, 6);
}

static int open_socket(const char *iface, int *ifindex, uint8_t mac[6])
{
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int fd, one = 1;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("vmb-peer: socket(AF_PACKET)");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		fprintf(stderr, "vmb-peer: no interface %s: %s\n", iface, strerror(errno));
		close(fd);
		return -1;
	}
	*ifindex = ifr.ifr_ifindex;
	if (mac && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	/* our own sends are not traffic to count or answer */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("vmb-peer: bind");
		close(fd);
		return -1;
	}
	return fd;
}

/* A TPACKET_V3 RX ring, copying at most SNAP bytes of each frame. */
static int ring_open(struct rx_ring *r, const char *iface)
{
	struct sock_filter snap[] = {{BPF_RET | BPF_K, 0, 0, SNAP}};
	struct sock_fprog prog = {1, snap};
	struct tpacket_req3 req;
	int v = TPACKET_V3, ifindex;

	memset(r, 0, sizeof(*r));
	r->fd = open_socket(iface, &ifindex, NULL);
	if (r->fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = RING_BLOCK;
	req.tp_block_nr = RING_BLOCKS;
	req.tp_frame_size = RING_FRAME;
	req.tp_frame_nr = RING_BLOCK / RING_FRAME * RING_BLOCKS;
	req.tp_retire_blk_tov = 10; /* ms: 64 blocks hold 0.64 s at low rates */
	if (setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		perror("vmb-peer: TPACKET_V3 ring");
		close(r->fd);
		return -1;
	}
	r->len = (size_t)RING_BLOCK * RING_BLOCKS;
	r->map = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED)
		r->map = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		perror("vmb-peer: mmap");
		close(r->fd);
		return -1;
	}
	return 0;
}

static void ring_close(struct rx_ring *r)
{
	munmap(r->map, r->len);
	close(r->fd);
}

static int is_bench_frame(const uint8_t *f, uint32_t len)
{
	return len >= 38 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17 && f[36] == 0 &&
	       f[37] == BENCH_UDP_PORT;
}

struct rx_count {
	double first;      /* kernel timestamp of the first bench frame (0: none yet) */
	double win_lo, win_hi;
	uint64_t frames, bench, bytes, early, late;
};

/* Walk the blocks the kernel handed over; returns frames seen. */
static uint64_t ring_drain(struct rx_ring *r, struct rx_count *c, const struct peer_opts *o)
{
	uint64_t seen = 0;
	unsigned blocks;

	for (blocks = 0; blocks < RING_BLOCKS; blocks++) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->next * RING_BLOCK);
		struct tpacket3_hdr *h;
		uint32_t i, n;

		if (!(bd->hdr.bh1.block_status & TP_STATUS_USER))
			break;
		n = bd->hdr.bh1.num_pkts;
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < n; i++) {
			const uint8_t *f = (const uint8_t *)h + h->tp_mac;
			double t = (double)h->tp_sec + (double)h->tp_nsec * 1e-9;
			seen++;
			c->frames++;
			if (is_bench_frame(f, h->tp_snaplen)) {
				if (c->first == 0) {
					c->first = t;
					c->win_lo = t + o->warmup;
					c->win_hi = c->win_lo + o->duration;
				}
				if (t < c->win_lo)
					c->early++;
				else if (t >= c->win_hi)
					c->late++;
				else {
					c->bench++;
					c->bytes += h->tp_len;
				}
			}
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->next = (r->next + 1) % RING_BLOCKS;
	}
	return seen;
}

static void emit(const struct peer_opts *o, const char *mode, uint64_t pkts, double secs, uint64_t bytes,
                 uint64_t iface_pkts, uint64_t iface_drops, uint64_t other)
{
	struct bench_row row = {0};

	bench_row_str(&row, "side", "host");
	bench_row_str(&row, "label", o->label);
	bench_row_str(&row, "mode", mode);
	bench_row_u64(&row, "frame", o->frame);
	bench_row_rate(&row, pkts, bytes, secs, "%.4f");
	bench_row_u64(&row, "iface_packets", iface_pkts);
	bench_row_num(&row, "iface_mpps", "%.4f", secs > 0 ? (double)iface_pkts / secs / 1e6 : 0);
	bench_row_u64(&row, "iface_drops", iface_drops);
	bench_row_u64(&row, "other", other);
	bench_emit(&row);
}

/* Sleep in poll() on the ring until @until (monotonic seconds). */
static void wait_ring(struct rx_ring *r, double until)
{
	struct pollfd p = {r->fd, POLLIN, 0};
	double left = until - now_s();
	int ms = left > 0.05 ? 50 : (int)(left * 1000);

	poll(&p, 1, ms > 0 ? ms : 0);
}

static uint64_t ring_drops(struct rx_ring *r)
{
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) < 0)
		return 0;
	return st.tp_drops;
}

static int do_sink(const struct peer_opts *o)
{
	struct rx_ring r;
	struct rx_count c = {0};
	struct counters c0 = {0}, c1 = {0};
	double start = now_s(), mono_lo = 0, mono_hi = 0, realoff;
	struct timespec rt;
	uint64_t loops, drops = 0;
	int snap = 0;

	if (ring_open(&r, o->iface))
		return 1;
	/* TPACKET timestamps are CLOCK_REALTIME: convert the window to monotonic */
	clock_gettime(CLOCK_REALTIME, &rt);
	realoff = ((double)rt.tv_sec + (double)rt.tv_nsec * 1e-9) - now_s();
	for (loops = 0; loops < MAX_LOOPS; loops++) {
		double t = now_s();

		ring_drain(&r, &c, o);
		if (c.first && !snap) {
			mono_lo = c.win_lo - realoff;
			mono_hi = c.win_hi - realoff;
			snap = 1;
		}
		if (snap == 1 && t >= mono_lo) {
			read_counters(o->iface, &c0);
			ring_drops(&r); /* reading the ring's statistics resets them */
			snap = 2;
		}
		if (snap == 2 && t >= mono_hi) {
			read_counters(o->iface, &c1);
			drops = ring_drops(&r);
			snap = 3;
		}
		if (snap == 3 && t >= mono_hi + 0.05) { /* let the last block retire */
			ring_drain(&r, &c, o);
			break;
		}
		if (!c.first && t - start > o->wait) {
			fprintf(stderr, "vmb-peer: sink: no bench frame on %s in %.1f s (%llu other frames)\n",
			        o->iface, o->wait, (unsigned long long)c.frames);
			ring_close(&r);
			return 1;
		}
		wait_ring(&r, snap == 1 ? mono_lo : snap == 2 ? mono_hi : t + 0.05);
	}
	if (drops)
		fprintf(stderr, "vmb-peer: sink: the ring dropped %llu frames in the window\n",
		        (unsigned long long)drops);
	ring_close(&r);
	emit(o, "sink", c.bench, o->duration, c.bytes, c1.rx_packets - c0.rx_packets, c1.rx_dropped - c0.rx_dropped,
	     c.frames - c.bench - c.early - c.late);
	return c.bench ? 0 : 1;
}

/* One frame per flow (BENCH_MAX_FRAME apart); one flow keeps the guest's
 * shape (port 9 to port 9). */
static int build_frames(const struct peer_opts *o, const uint8_t src[6], uint8_t *buf)
{
	struct bench_frame_conf fc;
	uint32_t f;

	memset(&fc, 0, sizeof(fc));
	memcpy(fc.src, src, 6);
	memcpy(fc.dst, o->dst, 6);
	fc.ip = 0x0a630001;
	fc.peer_ip = 0x0a630002;
	for (f = 0; f < o->flows; f++) {
		fc.sport = o->flows > 1 ? (uint16_t)(GEN_SPORT + f) : 0;
		bench_frame_build(buf + (size_t)f * BENCH_MAX_FRAME, &fc, o->frame);
	}
	return 0;
}

/* gen and fwd: send for warmup + duration + tail seconds. */
static int do_gen(const struct peer_opts *o, int count_back)
{
	static uint8_t frame[GEN_FLOWS_MAX * BENCH_MAX_FRAME];
	struct mmsghdr msgs[GEN_BATCH_MAX];
	struct iovec iov[GEN_FLOWS_MAX];
	struct sockaddr_ll to;
	struct counters c0 = {0}, c1 = {0};
	struct rx_ring r;
	struct rx_count rc = {0};
	uint8_t mac[6] = {0};
	double t0, t_lo, t_hi, t_end, next;
	uint64_t sent = 0, loops, sent_win = 0, backoffs = 0;
	int fd, ifindex, i, snap = 0, one = 1;

	fd = open_socket(o->iface, &ifindex, mac);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (count_back && ring_open(&r, o->iface)) {
		close(fd);
		return 1;
	}
	build_frames(o, mac, frame);
	packet_dest(&to, ifindex, o->dst);
	for (i = 0; i < (int)o->flows; i++) {
		iov[i].iov_base = frame + (size_t)i * BENCH_MAX_FRAME;
		iov[i].iov_len = o->frame;
	}
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < (int)o->burst; i++) {
		msgs[i].msg_hdr.msg_iov = &iov[i % o->flows];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = sizeof(to);
	}
	t0 = now_s();
	t_lo = t0 + o->warmup;
	t_hi = t_lo + o->duration;
	t_end = t_hi + o->tail;
	next = t0;
	for (loops = 0; loops < MAX_LOOPS * 10; loops++) {
		double t = now_s();
		int n;

		if (snap == 0 && t >= t_lo) {
			read_counters(o->iface, &c0);
			sent_win = sent;
			snap = 1;
		} else if (snap == 1 && t >= t_hi) {
			read_counters(o->iface, &c1);
			sent_win = sent - sent_win;
			snap = 2;
		}
		if (t >= t_end)
			break;
		if (count_back && (loops & 15) == 0)
			ring_drain(&r, &rc, o);
		if (o->rate > 0 && t < next) {
			struct timespec ts = {0, (long)((next - t) * 1e9)};
			if (next - t > 50e-6)
				nanosleep(&ts, NULL);
			continue;
		}
		if (o->flows > o->burst) {
			/* more flows than a burst holds: move the burst's window */
			for (i = 0; i < (int)o->burst; i++)
				msgs[i].msg_hdr.msg_iov = &iov[(sent + (uint64_t)i) % o->flows];
		}
		n = sendmmsg(fd, msgs, o->burst, 0);
		if (n > 0)
			sent += (uint64_t)n;
		else if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("vmb-peer: sendmmsg");
			break;
		}
		if (n < (int)o->burst) {
			/* the tap's queue is full (the frame was dropped): QEMU is
			 * behind, so give it the CPU rather than spin on drops */
			struct timespec ts = {0, 20000};
			backoffs++;
			nanosleep(&ts, NULL);
		}
		if (o->rate > 0)
			next += o->burst / o->rate;
	}
	close(fd);
	fprintf(stderr, "vmb-peer: gen: %llu frames sent, %llu back-offs on a full tap queue\n",
	        (unsigned long long)sent, (unsigned long long)backoffs);
	if (snap < 2) {
		fprintf(stderr, "vmb-peer: gen: stopped before the window closed\n");
		if (count_back)
			ring_close(&r);
		return 1;
	}
	/* what QEMU read from the tap is what reached the guest's device */
	emit(o, "gen", c1.tx_packets - c0.tx_packets, o->duration, (c1.tx_packets - c0.tx_packets) * o->frame,
	     sent_win, c1.tx_dropped - c0.tx_dropped, 0);
	if (count_back) {
		ring_drain(&r, &rc, o);
		ring_close(&r);
		emit(o, "fwd_back", rc.frames, o->duration + o->tail, rc.bytes, c1.rx_packets - c0.rx_packets,
		     c1.rx_dropped - c0.rx_dropped, 0);
	}
	return 0;
}

static void write_hist(const struct peer_opts *o, const uint64_t *h)
{
	FILE *f = o->hist_file ? fopen(o->hist_file, "w") : stdout;

	if (!f)
		return;
	fprintf(f, "{\"hist\":\"host_rtt\",\"unit\":\"ns\",\"frame\":%u,\"buckets\":[", (unsigned)o->frame);
	bench_hist_json(f, h, 1);
	fprintf(f, "]}\n");
	if (f != stdout)
		fclose(f);
}

/* One probe at a time through a reflecting guest; CLOCK_MONOTONIC stamps. */
static int do_ping(const struct peer_opts *o)
{
	static uint64_t hist[BENCH_HIST_BUCKETS];
	static uint8_t frame[BENCH_MAX_FRAME], in[BENCH_MAX_FRAME];
	struct sockaddr_ll to;
	uint8_t mac[6] = {0};
	uint64_t samples = 0, lost = 0, other = 0, maxns = 0, loops, t_lo, t_hi, t_start;
	uint32_t seq = 0;
	int fd, ifindex, first_seen = 0;

	fd = open_socket(o->iface, &ifindex, mac);
	if (fd < 0)
		return 1;
	build_frames(o, mac, frame);
	packet_dest(&to, ifindex, o->dst);
	t_start = now_ns();
	t_lo = t_hi = 0;
	for (loops = 0; loops < MAX_LOOPS; loops++) {
		uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)o->timeout_ms * 1000000ull, t1 = 0;
		int got = 0, k;

		if (t_hi && t0 >= t_hi)
			break;
		if (!first_seen && t0 - t_start > (uint64_t)(o->wait * 1e9)) {
			fprintf(stderr, "vmb-peer: ping: no reply in %.1f s\n", o->wait);
			break;
		}
		seq++;
		memcpy(frame + BENCH_OFF_SEQ, &seq, 4);
		memcpy(frame + BENCH_OFF_TS, &t0, 8);
		if (sendto(fd, frame, o->frame, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("vmb-peer: ping: sendto");
			break;
		}
		for (k = 0; k < 1000 && !got; k++) {
			struct pollfd p = {fd, POLLIN, 0};
			uint64_t t = now_ns();
			ssize_t n;
			if (t >= deadline)
				break;
			if (poll(&p, 1, (int)((deadline - t) / 1000000 + 1)) <= 0)
				continue;
			n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			t1 = now_ns();
			if (n > 0 && bench_frame_is_seq(in, (uint32_t)n, seq))
				got = 1;
			else if (n > 0)
				other++;
		}
		if (got && !first_seen) {
			first_seen = 1;
			t_lo = t1 + (uint64_t)(o->warmup * 1e9);
			t_hi = t_lo + (uint64_t)(o->duration * 1e9);
		}
		if (!first_seen || t0 < t_lo)
			continue;
		if (got) {
			uint64_t ns = t1 - t0;
			hist[bench_hist_bucket(ns)]++;
			if (ns > maxns)
				maxns = ns;
			samples++;
		} else {
			lost++;
		}
	}
	close(fd);
	if (!samples)
		return 1;
	{
		struct bench_row row = {0};
		bench_row_str(&row, "side", "host");
		bench_row_str(&row, "label", o->label);
		bench_row_str(&row, "mode", "ping");
		bench_row_u64(&row, "frame", o->frame);
		bench_row_u64(&row, "samples", samples);
		bench_row_u64(&row, "lost", lost);
		bench_row_u64(&row, "other", other);
		bench_row_pcts(&row, hist, samples, 1, (double)maxns);
		bench_emit(&row);
	}
	write_hist(o, hist);
	return 0;
}

/* Answer the guest's latency probes: swap the MACs, send back. */
static int do_reflect(const struct peer_opts *o)
{
	static uint8_t buf[2048];
	double end = now_s() + o->duration;
	uint64_t loops, n_back = 0, other = 0;
	int fd, ifindex;

	fd = open_socket(o->iface, &ifindex, NULL);
	if (fd < 0)
		return 1;
	for (loops = 0; loops < MAX_LOOPS && now_s() < end; loops++) {
		struct pollfd p = {fd, POLLIN, 0};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < BENCH_OFF_TS + 8 || !bench_frame_ours(buf, (uint32_t)n)) {
			other += n > 0;
			continue;
		}
		bench_macswap(buf);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			n_back++;
	}
	close(fd);
	emit(o, "reflect", n_back, o->duration, n_back * o->frame, 0, 0, other);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmb-peer sink|gen|fwd|ping|reflect --iface IF [--dst MAC] [--frame N] [--burst N]\n"
	                "       [--rate PPS] [--warmup S] [--duration S] [--tail S] [--wait S] [--timeout-ms N]\n"
	                "       [--hist FILE] [--label TEXT] [--flows N] [--quiet]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"iface", 1, 0, 'i'},    {"dst", 1, 0, 'd'},       {"frame", 1, 0, 'f'}, {"burst", 1, 0, 'b'},
		{"rate", 1, 0, 'r'},     {"warmup", 1, 0, 'w'},    {"duration", 1, 0, 'D'},
		{"tail", 1, 0, 't'},     {"wait", 1, 0, 'W'},      {"timeout-ms", 1, 0, 'T'},
		{"hist", 1, 0, 'H'},     {"label", 1, 0, 'l'},     {"quiet", 0, 0, 'q'},
		{"flows", 1, 0, 'F'},    {0, 0, 0, 0}};
	struct peer_opts o = {0};
	int c, quiet = 0, rc;

	o.iface = "tap0";
	o.label = "";
	o.frame = 60;
	o.burst = 32;
	o.warmup = 0.5;
	o.duration = 2;
	o.tail = 1;
	o.wait = 15;
	o.timeout_ms = 100;
	o.flows = 1;
	if (argc < 2) {
		usage();
		return 2;
	}
	o.mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'i': o.iface = optarg; break;
		case 'd':
			if (vnet_parse_mac(optarg, o.dst)) {
				fprintf(stderr, "vmb-peer: bad MAC %s (want aa:bb:cc:dd:ee:ff)\n", optarg);
				return 2;
			}
			o.have_dst = 1;
			break;
		case 'f': o.frame = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': o.burst = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		case 'w': o.warmup = strtod(optarg, NULL); break;
		case 'D': o.duration = strtod(optarg, NULL); break;
		case 't': o.tail = strtod(optarg, NULL); break;
		case 'W': o.wait = strtod(optarg, NULL); break;
		case 'T': o.timeout_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'H': o.hist_file = optarg; break;
		case 'l': o.label = optarg; break;
		case 'q': quiet = 1; break;
		case 'F': o.flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		default: usage(); return 2;
		}
	}
	if (o.frame < BENCH_MIN_FRAME || o.frame > BENCH_MAX_FRAME || o.burst < 1 || o.burst > GEN_BATCH_MAX ||
	    o.duration <= 0 || o.duration > 3600 || o.warmup < 0 || o.warmup > 600 || o.tail < 0 ||
	    o.tail > 600 || o.wait <= 0 || o.wait > 600 || o.timeout_ms < 1 || o.timeout_ms > 10000 ||
	    o.flows < 1 || o.flows > GEN_FLOWS_MAX) {
		fprintf(stderr, "vmb-peer: frame 60..1518, burst 1..%d, flows 1..%d, times 0..3600 s\n", GEN_BATCH_MAX,
		        GEN_FLOWS_MAX);
		return 2;
	}
	if (!strcmp(o.mode, "sink"))
		rc = do_sink(&o);
	else if ((!strcmp(o.mode, "gen") || !strcmp(o.mode, "fwd") || !strcmp(o.mode, "ping")) && !o.have_dst) {
		fprintf(stderr, "vmb-peer: %s needs --dst MAC\n", o.mode);
		return 2;
	} else if (!strcmp(o.mode, "gen"))
		rc = do_gen(&o, 0);
	else if (!strcmp(o.mode, "fwd"))
		rc = do_gen(&o, 1);
	else if (!strcmp(o.mode, "ping"))
		rc = do_ping(&o);
	else if (!strcmp(o.mode, "reflect"))
		rc = do_reflect(&o);
	else {
		usage();
		return 2;
	}
	if (!quiet)
		bench_table();
	return rc;
}
