/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user frontend transport against the test backend
 * (vu_backend.c) in a child process: handshake, traffic both ways with the
 * content checked, kicks only when asked, config, reset and reopen, and
 * the failures: no socket, a refused feature, a backend that dies; and the
 * server mode, where vnet listens and the backend connects.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vnet/linux.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "transport/logcap.h"
#include "vu_backend.h"

#define F_VERSION_1 (1ull << 32)
#define F_EVENT_IDX (1ull << 29)
#define F_MRG_RXBUF (1ull << 15)
#define F_CTRL_VQ   (1ull << 17)
#define F_MAC       (1ull << 5)
#define F_STATUS    (1ull << 16)
#define P_MQ        (1ull << 0)
#define P_REPLY_ACK (1ull << 3)
#define P_CONFIG    (1ull << 9)

struct vrig {
	char dir[64];
	struct vub_conf c;
	struct vub_stats *st;
	pid_t pid;
	struct vnet_transport *t;
	struct vnet_pool *pool;
	struct vnet_dev *dev;
};

static void conf_default(struct vrig *r)
{
	static const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

	memset(&r->c, 0, sizeof(r->c));
	snprintf(r->c.path, sizeof(r->c.path), "%s/vu.sock", r->dir);
	r->c.features = F_VERSION_1 | F_EVENT_IDX | F_MRG_RXBUF | F_CTRL_VQ;
	r->c.proto = P_MQ | P_REPLY_ACK;
	memcpy(r->c.mac, mac, 6);
	r->c.max_seconds = 20;
}

static void rig_init(struct vrig *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/vnet-vu-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	r->st = vub_stats_map();
	ck_assert_ptr_nonnull(r->st);
	conf_default(r);
	logcap_start();
}

static void rig_start(struct vrig *r)
{
	r->pid = vub_start(&r->c, r->st);
	ck_assert_int_gt(r->pid, 0);
}

/* The device on @pairs queue pairs; @o: the transport's options (NULL:
 * defaults). */
static int rig_open_with(struct vrig *r, uint16_t ring, uint16_t pairs, const struct vnet_vhost_user_opts *o)
{
	struct vnet_pool_conf pc = {.count = 1024};
	struct vnet_dev_conf dc = {0};
	int rc;

	rc = vnet_vhost_user_open(&r->t, r->c.path, o);
	if (rc)
		return rc;
	if (!r->pool)
		ck_assert_int_eq(vnet_pool_create(&r->pool, &pc), 0);
	dc.pool = r->pool;
	dc.rx_ring_size = dc.tx_ring_size = ring;
	dc.queue_pairs = pairs;
	return vnet_dev_open(&r->dev, r->t, &dc);
}

static int rig_open(struct vrig *r, uint16_t ring)
{
	return rig_open_with(r, ring, 1, NULL);
}

static void rig_done(struct vrig *r)
{
	char path[128];

	vnet_dev_close(r->dev);
	vnet_transport_close(r->t);
	if (r->pool) {
		ck_assert_uint_eq(vnet_pool_in_use(r->pool), 0);
		ck_assert_int_eq(vnet_pool_destroy(r->pool), 0);
	}
	vub_kill(r->pid);
	vub_stats_unmap(r->st);
	unlink(r->c.path);
	snprintf(path, sizeof(path), "%s", r->dir);
	ck_assert_int_eq(rmdir(path), 0);
	vnet_set_log(NULL, NULL, VNET_LOG_ERR);
}

static void fill(struct vnet_buf *b, uint64_t seq, uint32_t len)
{
	uint32_t i;

	memset(b->data, 0xff, 6);
	memcpy(b->data + 6, "\x02\x00\x00\x00\x00\x01\x88\xb5", 8);
	memcpy(b->data + 14, &seq, 8);
	for (i = 22; i < len; i++)
		b->data[i] = vub_pattern(seq, i);
	b->len = len;
}

static int check(const struct vnet_buf *b, uint64_t seq, uint32_t len)
{
	uint64_t s;
	uint32_t i;

	if (b->len != len)
		return 0;
	memcpy(&s, b->data + 14, 8);
	if (s != seq)
		return 0;
	for (i = 22; i < len; i++)
		if (b->data[i] != vub_pattern(seq, i))
			return 0;
	return 1;
}

static uint32_t len_of(uint64_t seq)
{
	return 60 + (uint32_t)((seq * 97) % 1455); /* 60..1514 */
}

/* Send @n frames through the loopback backend and check each one that
 * comes back, in order. Bounded by @secs. @return frames back intact. */
static uint64_t loop_traffic(struct vrig *r, uint64_t n, unsigned secs)
{
	uint64_t sent = 0, got = 0, deadline = vnet_now_us() + secs * 1000000ull;

	while (got < n && vnet_now_us() < deadline) {
		struct vnet_buf *b[32];
		uint16_t k, i, m = 32;

		if (n - sent < m)
			m = (uint16_t)(n - sent);
		if (m && vnet_pool_alloc_bulk(r->pool, b, m) == 0) {
			for (i = 0; i < m; i++)
				fill(b[i], sent + i, len_of(sent + i));
			k = vnet_tx_burst(r->dev, 0, b, m);
			vnet_pool_free_bulk(b + k, (uint32_t)(m - k));
			sent += k;
		} else if (m) {
			vnet_tx_reclaim(r->dev, 0); /* the pool is in the TX ring */
		}
		k = vnet_rx_burst(r->dev, 0, b, 32);
		for (i = 0; i < k; i++) {
			ck_assert_msg(check(b[i], got, len_of(got)), "frame %llu corrupt or out of order",
			              (unsigned long long)got);
			got++;
		}
		vnet_pool_free_bulk(b, k);
		vnet_rx_refill(r->dev, 0);
	}
	vnet_tx_reclaim(r->dev, 0);
	return got;
}

START_TEST(test_handshake)
{
	struct vrig r;
	struct vnet_net_config cfg;
	const uint8_t def_mac[6] = VNET_VHOST_USER_DEFAULT_MAC;

	rig_init(&r);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &cfg), 0);
	/* offer ∩ wanted, plus MAC and STATUS that the transport provides */
	ck_assert_uint_eq(cfg.features, F_VERSION_1 | F_EVENT_IDX | F_MAC | F_STATUS);
	ck_assert_mem_eq(cfg.mac, def_mac, 6);
	ck_assert(cfg.link_up);
	ck_assert_uint_eq(r.st->set_owner, 1);
	ck_assert_uint_eq(r.st->mem_tables, 1);
	ck_assert_uint_eq(r.st->nregions, 3); /* the pool and two rings */
	/* what the backend was told: no MAC/STATUS (not offered), PROTOCOL_FEATURES */
	ck_assert_uint_eq(r.st->acked_features, F_VERSION_1 | F_EVENT_IDX | (1ull << 30));
	ck_assert_uint_eq(r.st->vring_addr, 2);
	ck_assert_uint_eq(r.st->vring_kick, 2);
	ck_assert_uint_eq(r.st->vring_call, 2);
	ck_assert_uint_eq(r.st->vring_enable_on, 2);
	ck_assert_int_eq(vnet_vhost_user_alive(r.t), 0);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	rig_done(&r);
}
END_TEST

START_TEST(test_loopback_polling)
{
	struct vnet_queue_stats tx, rx;
	struct vrig r;

	rig_init(&r);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	ck_assert_uint_eq(loop_traffic(&r, 20000, 10), 20000);
	ck_assert_uint_eq(r.st->tx_bad, 0);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, false, &tx), 0);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, true, &rx), 0);
	ck_assert_uint_eq(tx.packets, 20000);
	ck_assert_uint_eq(rx.packets, 20000);
	/* a polling backend asks for no kicks: at most the very first ones */
	ck_assert_uint_le(tx.kicks + rx.kicks, 4);
	ck_assert_uint_eq(rx.drop_bad_id + rx.drop_bad_len + rx.drop_bad_idx, 0);
	rig_done(&r);
}
END_TEST

START_TEST(test_loopback_kicks)
{
	struct vnet_queue_stats tx;
	struct vrig r;

	rig_init(&r);
	r.c.want_kicks = 1; /* the backend sleeps on the kick eventfds */
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 128), 0);
	ck_assert_uint_eq(loop_traffic(&r, 5000, 10), 5000);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, false, &tx), 0);
	ck_assert_uint_gt(tx.kicks, 0);
	ck_assert_uint_gt(r.st->kicks_seen, 0);
	rig_done(&r);
}
END_TEST

START_TEST(test_no_event_idx)
{
	struct vrig r;

	rig_init(&r);
	r.c.features = F_VERSION_1; /* flags-based suppression (spec 2.7.7) */
	r.c.want_kicks = 1;
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 64), 0);
	ck_assert_uint_eq(loop_traffic(&r, 3000, 10), 3000);
	rig_done(&r);
}
END_TEST

/* RX alone (the backend generates) and TX alone (the backend checks). */
START_TEST(test_source_and_sink)
{
	const uint64_t n = 10000;
	uint64_t got = 0, sent = 0, deadline;
	struct vrig r;

	rig_init(&r);
	r.c.mode = VUB_SOURCE;
	r.c.source_count = n;
	r.c.source_len = 1000;
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	deadline = vnet_now_us() + 10000000ull;
	while ((got < n || sent < n) && vnet_now_us() < deadline) {
		struct vnet_buf *b[32];
		uint16_t k, i;

		k = vnet_rx_burst(r.dev, 0, b, 32);
		for (i = 0; i < k; i++, got++)
			ck_assert_msg(check(b[i], got, 1000), "RX frame %llu", (unsigned long long)got);
		vnet_pool_free_bulk(b, k);
		vnet_rx_refill(r.dev, 0);
		if (sent < n && vnet_pool_alloc_bulk(r.pool, b, 16) == 0) {
			for (i = 0; i < 16; i++)
				fill(b[i], sent + i, len_of(sent + i));
			k = vnet_tx_burst(r.dev, 0, b, 16);
			vnet_pool_free_bulk(b + k, (uint32_t)(16 - k));
			sent += k;
		}
	}
	ck_assert_uint_eq(got, n);
	ck_assert_uint_ge(sent, n);
	deadline = vnet_now_us() + 5000000ull;
	while (r.st->tx_frames + r.st->tx_bad < sent && vnet_now_us() < deadline)
		vnet_tx_reclaim(r.dev, 0);
	ck_assert_uint_eq(r.st->tx_bad, 0);
	ck_assert_uint_eq(r.st->tx_frames, sent);
	rig_done(&r);
}
END_TEST

START_TEST(test_config_from_backend)
{
	struct vnet_net_config cfg;
	struct vrig r;

	rig_init(&r);
	r.c.proto = P_REPLY_ACK | P_CONFIG;
	r.c.features |= F_MAC | F_STATUS;
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	ck_assert_int_eq(vnet_dev_config(r.dev, &cfg), 0);
	ck_assert_mem_eq(cfg.mac, r.c.mac, 6);
	ck_assert(cfg.link_up);
	ck_assert_uint_gt(r.st->get_config, 0);
	ck_assert_uint_eq(loop_traffic(&r, 1000, 10), 1000);
	rig_done(&r);
}
END_TEST

/* No protocol features at all: no REPLY_ACK, rings start enabled. */
START_TEST(test_legacy_backend)
{
	struct vrig r;

	rig_init(&r);
	r.c.no_proto_bit = 1;
	r.c.proto = 0;
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	ck_assert_uint_eq(r.st->acked_features, F_VERSION_1 | F_EVENT_IDX);
	ck_assert_uint_eq(r.st->vring_enable_on, 0);
	ck_assert_uint_eq(loop_traffic(&r, 2000, 10), 2000);
	rig_done(&r);
}
END_TEST

/* Close and reopen over one connection: rings stopped with GET_VRING_BASE,
 * a fresh memory table for the new rings, traffic again. */
START_TEST(test_reopen)
{
	struct vnet_dev_conf dc = {0};
	struct vrig r;

	rig_init(&r);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	ck_assert_uint_eq(loop_traffic(&r, 3000, 10), 3000);
	vnet_dev_close(r.dev);
	r.dev = NULL;
	ck_assert_uint_eq(r.st->get_vring_base, 2);
	dc.pool = r.pool;
	dc.rx_ring_size = dc.tx_ring_size = 512;
	ck_assert_int_eq(vnet_dev_open(&r.dev, r.t, &dc), 0);
	ck_assert_uint_eq(r.st->mem_tables, 2);
	ck_assert_uint_eq(loop_traffic(&r, 3000, 10), 3000);
	ck_assert_int_eq(vnet_dev_recover(r.dev), 0);
	ck_assert_uint_eq(loop_traffic(&r, 3000, 10), 3000);
	rig_done(&r);
}
END_TEST

START_TEST(test_missing_socket)
{
	struct vnet_transport *t = NULL;
	struct vrig r;

	rig_init(&r);
	ck_assert_int_eq(vnet_vhost_user_open(&t, r.c.path, NULL), -ENOENT);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has(r.c.path));
	ck_assert(logcap_has("no socket"));
	rig_done(&r);
}
END_TEST

START_TEST(test_refused_feature_nack)
{
	struct vrig r;

	rig_init(&r);
	r.c.refuse = F_EVENT_IDX;
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), -EPROTO);
	ck_assert_ptr_null(r.dev);
	ck_assert_uint_eq(r.st->refused, 1);
	ck_assert(logcap_has("refused"));
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	rig_done(&r);
}
END_TEST

START_TEST(test_refused_feature_hangup)
{
	struct vrig r;

	rig_init(&r);
	r.c.refuse = F_EVENT_IDX;
	r.c.refuse_by_hangup = 1;
	r.c.proto = 0; /* no REPLY_ACK: the frontend must notice the hang-up */
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), -EPROTO);
	ck_assert(logcap_has("refused"));
	ck_assert(logcap_has("went away"));
	ck_assert_int_eq(vnet_vhost_user_alive(r.t), -ECONNRESET);
	rig_done(&r);
}
END_TEST

START_TEST(test_no_listener)
{
	struct vnet_transport *t = NULL;
	struct vrig r;
	struct stat sb;

	rig_init(&r);
	rig_start(&r);
	/* kill the backend before anyone connects: a stale socket file */
	kill(r.pid, SIGKILL);
	vub_kill(r.pid);
	r.pid = 0;
	ck_assert_int_eq(stat(r.c.path, &sb), 0);
	ck_assert_int_eq(vnet_vhost_user_open(&t, r.c.path, NULL), -ECONNREFUSED);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("nobody listens"));
	rig_done(&r);
}
END_TEST

/* The backend dies mid-run: the run ends cleanly, with the counters kept. */
START_TEST(test_backend_dies)
{
	struct vnet_queue_stats tx;
	uint64_t deadline, got;
	struct vrig r;
	int broken = 0;

	rig_init(&r);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 256), 0);
	got = loop_traffic(&r, 2000, 10);
	ck_assert_uint_eq(got, 2000);
	kill(r.pid, SIGKILL);
	deadline = vnet_now_us() + 3000000ull;
	while (!broken && vnet_now_us() < deadline) {
		struct vnet_buf *b[32];
		uint16_t k;

		/* the fast path goes on harmlessly; a periodic check notices */
		if (vnet_pool_alloc_bulk(r.pool, b, 8) == 0) {
			for (k = 0; k < 8; k++)
				fill(b[k], k, 64);
			k = vnet_tx_burst(r.dev, 0, b, 8);
			vnet_pool_free_bulk(b + k, (uint32_t)(8 - k));
		}
		k = vnet_rx_burst(r.dev, 0, b, 32);
		vnet_pool_free_bulk(b, k);
		broken = vnet_dev_broken(r.dev);
		usleep(1000);
	}
	ck_assert_int_eq(broken, 1);
	ck_assert_int_eq(vnet_vhost_user_alive(r.t), -ECONNRESET);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, false, &tx), 0);
	ck_assert_uint_ge(tx.packets, 2000);
	ck_assert(logcap_has("went away"));
	rig_done(&r); /* close must not hang or raise SIGPIPE */
}
END_TEST

/* Frames on pair @q until @want come back on it (or @secs pass): the
 * test backend loops each pair on itself. @return frames back. */
static uint64_t pair_traffic(struct vrig *r, uint16_t q, uint64_t want, unsigned secs)
{
	uint64_t got = 0, deadline = vnet_now_us() + secs * 1000000ull;

	while (got < want && vnet_now_us() < deadline) {
		struct vnet_buf *b[32];
		uint16_t k, i;

		vnet_tx_reclaim(r->dev, q);
		if (vnet_tx_free(r->dev, q) >= 16 && vnet_pool_alloc_bulk(r->pool, b, 16) == 0) {
			for (i = 0; i < 16; i++)
				fill(b[i], i, 64 + q);
			k = vnet_tx_burst(r->dev, q, b, 16);
			vnet_pool_free_bulk(b + k, (uint32_t)(16 - k));
		}
		k = vnet_rx_burst(r->dev, q, b, 32);
		for (i = 0; i < k; i++)
			ck_assert_uint_eq(b[i]->len, 64 + q); /* came back on its own pair */
		got += k;
		vnet_pool_free_bulk(b, k);
		vnet_rx_refill(r->dev, q);
	}
	vnet_tx_reclaim(r->dev, q);
	return got;
}

static struct vnet_vhost_user_stats vu_stats(struct vrig *r)
{
	struct vnet_vhost_user_stats s;

	ck_assert_int_eq(vnet_vhost_user_stats(r->t, &s), 0);
	return s;
}

/* Two queue pairs (MQ protocol feature, GET_QUEUE_NUM): both enabled at
 * the backend through the control queue the transport serves, and both
 * carry frames, counted on each side. */
START_TEST(test_mq_two_pairs)
{
	struct vnet_queue_stats rx0, rx1;
	struct vrig r;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 2, NULL), 0);
	ck_assert_uint_eq(vnet_dev_queue_pairs(r.dev), 2);
	ck_assert_uint_eq(vu_stats(&r).max_pairs, 2);
	ck_assert_uint_eq(vu_stats(&r).pairs_enabled, 2);
	ck_assert_uint_ge(vu_stats(&r).ctrl_commands, 1);
	ck_assert_uint_eq(r.st->enabled_rings, 0xf);
	ck_assert_uint_eq(r.st->vring_kick, 4); /* the control queue stays here */
	ck_assert_uint_eq(r.st->acked_features & F_CTRL_VQ, 0); /* and is no business of the backend's */
	ck_assert_uint_ge(pair_traffic(&r, 0, 3000, 10), 3000);
	ck_assert_uint_ge(pair_traffic(&r, 1, 3000, 10), 3000);
	ck_assert_uint_ge(r.st->pair_frames[0], 3000);
	ck_assert_uint_ge(r.st->pair_frames[1], 3000);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 0, true, &rx0), 0);
	ck_assert_int_eq(vnet_queue_stats(r.dev, 1, true, &rx1), 0);
	ck_assert_uint_ge(rx0.packets, 3000);
	ck_assert_uint_ge(rx1.packets, 3000);
	/* back to one pair: the backend disables pair 1's rings */
	ck_assert_int_eq(vnet_dev_set_queue_pairs(r.dev, 1), 0);
	ck_assert_uint_eq(r.st->enabled_rings, 0x3);
	ck_assert_uint_eq(vu_stats(&r).pairs_enabled, 1);
	rig_done(&r);
}
END_TEST

/* A backend serving fewer pairs than asked: a clear error, nothing left. */
START_TEST(test_mq_fewer_pairs_than_asked)
{
	struct vrig r;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 3, NULL), -ENOTSUP);
	ck_assert_ptr_null(r.dev);
	ck_assert(logcap_has("3 queue pairs asked; the device offers 2"));
	rig_done(&r);
}
END_TEST

/* Kill the backend mid-traffic and start a new one on the same path: the
 * device notices, gets every buffer back, reconnects (with backoff, while
 * nobody listens), renegotiates both pairs and carries frames again. */
START_TEST(test_reconnect)
{
	struct vnet_vhost_user_opts o = {.reconnect = true, .reconnect_max_ms = 200};
	uint64_t deadline;
	struct vrig r;
	int rc = -1, broken = 0;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 2, &o), 0);
	ck_assert_uint_ge(pair_traffic(&r, 0, 2000, 10), 2000);
	ck_assert_uint_ge(pair_traffic(&r, 1, 2000, 10), 2000);
	kill(r.pid, SIGKILL);
	vub_kill(r.pid);
	r.pid = 0;
	deadline = vnet_now_us() + 3000000ull;
	while (!broken && vnet_now_us() < deadline) {
		pair_traffic(&r, 0, 1, 0); /* the fast path goes on harmlessly */
		broken = vnet_dev_broken(r.dev);
	}
	ck_assert_int_eq(broken, 1);
	/* nobody listens yet: recover fails, and every buffer is back; the
	 * backoff (50 ms first) lets one of these quick retries connect */
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_uint_eq(vu_stats(&r).reconnect_tries, 1);
	ck_assert_uint_eq(vu_stats(&r).disconnects, 1);
	rig_start(&r); /* a new backend on the same path */
	deadline = vnet_now_us() + 5000000ull;
	while (rc && vnet_now_us() < deadline) {
		rc = vnet_dev_recover(r.dev);
		usleep(10000);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(vu_stats(&r).reconnects, 1);
	ck_assert_uint_ge(vu_stats(&r).reconnect_tries, 1);
	ck_assert(vu_stats(&r).connected);
	ck_assert_uint_eq(vu_stats(&r).pairs_enabled, 2);
	ck_assert_int_eq(vnet_dev_broken(r.dev), 0);
	/* only the RX rings hold buffers after the restart */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 2 * 128);
	ck_assert_uint_ge(pair_traffic(&r, 0, 2000, 10), 2000);
	ck_assert_uint_ge(pair_traffic(&r, 1, 2000, 10), 2000);
	ck_assert_uint_ge(r.st->pair_frames[0], 2000); /* the new backend's counts */
	ck_assert_uint_ge(r.st->pair_frames[1], 2000);
	ck_assert(logcap_has("reconnected"));
	rig_done(&r); /* the pool is whole (in_use 0) after close */
}
END_TEST

/* Without opts.reconnect a backend that went away stays gone: recover
 * fails and never tries to connect. */
START_TEST(test_no_reconnect_by_default)
{
	struct vrig r;

	rig_init(&r);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 128), 0);
	kill(r.pid, SIGKILL);
	vub_kill(r.pid);
	r.pid = 0;
	rig_start(&r);
	while (!vnet_dev_broken(r.dev))
		usleep(1000);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_uint_eq(vu_stats(&r).reconnect_tries, 0);
	ck_assert_uint_eq(vu_stats(&r).reconnects, 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	rig_done(&r);
}
END_TEST

/* STATUS protocol feature: the backend follows the device status, and a
 * reset takes it back to 0. */
START_TEST(test_status_protocol)
{
	struct vrig r;

	rig_init(&r);
	r.c.proto = P_REPLY_ACK | (1ull << 16);
	rig_start(&r);
	ck_assert_int_eq(rig_open(&r, 128), 0);
	ck_assert_uint_eq(r.st->status, 0xf); /* ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK */
	ck_assert_uint_eq(vu_stats(&r).backend_status, 0xf);
	ck_assert_uint_eq(loop_traffic(&r, 1000, 10), 1000);
	vnet_dev_close(r.dev);
	r.dev = NULL;
	ck_assert_uint_eq(r.st->status, 0);
	rig_done(&r);
}
END_TEST

/* ------------------------------------------------------- server mode -- */

static const struct vnet_vhost_user_opts server_opts = {
	.server = true, .reconnect_max_ms = 200, .connect_timeout_ms = 5000};

/* The backend connects to vnet's socket (it retries until vnet listens). */
static void rig_start_client(struct vrig *r)
{
	r->c.connect = 1;
	rig_start(r);
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static bool is_socket(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* A socket file nobody listens on, as a process that died leaves. */
static void make_stale_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

/* Close the device and the transport (rig_done then has nothing to close). */
static void rig_close(struct vrig *r)
{
	vnet_dev_close(r->dev);
	r->dev = NULL;
	vnet_transport_close(r->t);
	r->t = NULL;
}

/* vnet listens, the backend connects: two pairs negotiated and carrying
 * frames; the socket is vnet's while it runs and gone after close. */
START_TEST(test_server_traffic)
{
	struct vrig r;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start_client(&r); /* before vnet listens: it retries */
	ck_assert_int_eq(rig_open_with(&r, 128, 2, &server_opts), 0);
	ck_assert(is_socket(r.c.path));
	ck_assert_uint_eq(r.st->set_owner, 1);
	ck_assert_uint_eq(vu_stats(&r).pairs_enabled, 2);
	ck_assert_uint_ge(pair_traffic(&r, 0, 2000, 10), 2000);
	ck_assert_uint_ge(pair_traffic(&r, 1, 2000, 10), 2000);
	ck_assert_uint_ge(r.st->pair_frames[0], 2000);
	ck_assert_uint_ge(r.st->pair_frames[1], 2000);
	ck_assert(logcap_has("waiting for a backend"));
	rig_close(&r);
	ck_assert(!is_socket(r.c.path));
	ck_assert_int_eq(access(r.c.path, F_OK), -1);
	rig_done(&r);
}
END_TEST

/* The backend killed mid-traffic and a new one connecting: every buffer
 * back while it is gone, the next connection accepted (paced by the
 * backoff, counted as tries), both pairs carry frames again. */
START_TEST(test_server_reconnect)
{
	uint64_t deadline;
	struct vrig r;
	int rc = -1, broken = 0;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start_client(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 2, &server_opts), 0);
	ck_assert_uint_ge(pair_traffic(&r, 0, 2000, 10), 2000);
	kill(r.pid, SIGKILL);
	vub_kill(r.pid);
	r.pid = 0;
	deadline = vnet_now_us() + 3000000ull;
	while (!broken && vnet_now_us() < deadline) {
		pair_traffic(&r, 0, 1, 0);
		broken = vnet_dev_broken(r.dev);
	}
	ck_assert_int_eq(broken, 1);
	/* nobody connected yet: the accept finds none, and does not wait */
	deadline = vnet_now_us();
	ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_uint_lt(vnet_now_us() - deadline, 500000);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(vnet_dev_recover(r.dev), -ECONNRESET);
	ck_assert_uint_eq(vu_stats(&r).reconnect_tries, 1); /* the backoff paced them */
	ck_assert_uint_eq(vu_stats(&r).disconnects, 1);
	ck_assert(is_socket(r.c.path)); /* still listening */
	rig_start_client(&r);
	deadline = vnet_now_us() + 5000000ull;
	while (rc && vnet_now_us() < deadline) {
		rc = vnet_dev_recover(r.dev);
		usleep(10000);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(vu_stats(&r).reconnects, 1);
	ck_assert(vu_stats(&r).connected);
	ck_assert_uint_eq(vu_stats(&r).pairs_enabled, 2);
	ck_assert_uint_eq(r.st->set_owner, 1); /* the new backend's handshake */
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 2 * 128);
	ck_assert_uint_ge(pair_traffic(&r, 0, 2000, 10), 2000);
	ck_assert_uint_ge(pair_traffic(&r, 1, 2000, 10), 2000);
	ck_assert_uint_ge(r.st->pair_frames[1], 2000);
	rig_close(&r);
	ck_assert_int_eq(access(r.c.path, F_OK), -1);
	rig_done(&r); /* the pool is whole */
}
END_TEST

/* A backend that comes back with fewer pairs is refused: the device stays
 * broken rather than drive rings nobody serves. */
START_TEST(test_server_back_with_fewer_pairs)
{
	uint64_t deadline;
	struct vrig r;
	int rc = 0;

	rig_init(&r);
	r.c.queue_pairs = 2;
	rig_start_client(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 2, &server_opts), 0);
	kill(r.pid, SIGKILL);
	vub_kill(r.pid);
	while (!vnet_dev_broken(r.dev))
		usleep(1000);
	r.c.queue_pairs = 1;
	rig_start_client(&r);
	deadline = vnet_now_us() + 2000000ull;
	while (!logcap_has("is back with") && vnet_now_us() < deadline) {
		rc = vnet_dev_recover(r.dev);
		usleep(10000);
	}
	ck_assert_int_eq(rc, -ECONNRESET);
	ck_assert(logcap_has("is back with"));
	ck_assert_uint_eq(vu_stats(&r).reconnects, 0);
	ck_assert_uint_eq(vnet_pool_in_use(r.pool), 0);
	rig_done(&r);
}
END_TEST

/* Nobody connects: -ETIMEDOUT after the timeout, the socket removed, no
 * fd left behind. */
START_TEST(test_server_timeout)
{
	struct vnet_vhost_user_opts o = {.server = true, .connect_timeout_ms = 200};
	struct vnet_transport *t = NULL;
	uint64_t t0;
	struct vrig r;
	int fds;

	rig_init(&r);
	fds = fd_count();
	t0 = vnet_now_us();
	ck_assert_int_eq(vnet_vhost_user_open(&t, r.c.path, &o), -ETIMEDOUT);
	ck_assert_uint_ge(vnet_now_us() - t0, 190000);
	ck_assert_uint_lt(vnet_now_us() - t0, 2000000);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("no backend connected within 200 ms"));
	ck_assert_int_eq(access(r.c.path, F_OK), -1);
	ck_assert_int_eq(fd_count(), fds);
	rig_done(&r);
}
END_TEST

/* A file that is not a socket at the path: refused, left as it was. */
START_TEST(test_server_refuses_file)
{
	struct vnet_transport *t = NULL;
	char buf[16] = {0};
	struct vrig r;
	int fd, fds;

	rig_init(&r);
	fd = open(r.c.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep me", 7), 7);
	close(fd);
	fds = fd_count();
	ck_assert_int_eq(vnet_vhost_user_open(&t, r.c.path, &server_opts), -EEXIST);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("not a socket"));
	ck_assert_int_eq(fd_count(), fds);
	fd = open(r.c.path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	ck_assert_str_eq(buf, "keep me");
	rig_done(&r);
}
END_TEST

/* A stale socket (its listener died) is replaced; a live one is refused. */
START_TEST(test_server_stale_and_live_socket)
{
	struct vnet_transport *t = NULL;
	struct vrig r;

	rig_init(&r);
	rig_start(&r); /* a listening backend: the path is taken */
	ck_assert_int_eq(vnet_vhost_user_open(&t, r.c.path, &server_opts), -EADDRINUSE);
	ck_assert_ptr_null(t);
	ck_assert(logcap_has("listens on"));
	vub_kill(r.pid);
	make_stale_socket(r.c.path);
	ck_assert(is_socket(r.c.path));
	rig_start_client(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 1, &server_opts), 0);
	ck_assert(logcap_has("removed the stale socket"));
	ck_assert_uint_eq(loop_traffic(&r, 1000, 10), 1000);
	rig_done(&r);
}
END_TEST

/* Close removes only the socket vnet bound: another socket or a file put
 * in its place since is left alone. */
START_TEST(test_server_close_keeps_other_file)
{
	struct vrig r;
	int fd;

	rig_init(&r);
	rig_start_client(&r);
	ck_assert_int_eq(rig_open_with(&r, 128, 1, &server_opts), 0);
	ck_assert_int_eq(unlink(r.c.path), 0);
	make_stale_socket(r.c.path); /* someone else's socket now */
	rig_close(&r);
	ck_assert(is_socket(r.c.path));
	rig_start_client(&r);
	ck_assert_int_eq(unlink(r.c.path), 0);
	ck_assert_int_eq(rig_open_with(&r, 128, 1, &server_opts), 0);
	ck_assert_int_eq(unlink(r.c.path), 0);
	fd = open(r.c.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	rig_close(&r);
	ck_assert_int_eq(access(r.c.path, F_OK), 0);
	ck_assert(!is_socket(r.c.path));
	rig_done(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user");
	TCase *tc = tcase_create("vhost_user");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handshake);
	tcase_add_test(tc, test_loopback_polling);
	tcase_add_test(tc, test_loopback_kicks);
	tcase_add_test(tc, test_no_event_idx);
	tcase_add_test(tc, test_source_and_sink);
	tcase_add_test(tc, test_config_from_backend);
	tcase_add_test(tc, test_legacy_backend);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_missing_socket);
	tcase_add_test(tc, test_refused_feature_nack);
	tcase_add_test(tc, test_refused_feature_hangup);
	tcase_add_test(tc, test_no_listener);
	tcase_add_test(tc, test_backend_dies);
	tcase_add_test(tc, test_mq_two_pairs);
	tcase_add_test(tc, test_mq_fewer_pairs_than_asked);
	tcase_add_test(tc, test_reconnect);
	tcase_add_test(tc, test_no_reconnect_by_default);
	tcase_add_test(tc, test_status_protocol);
	tcase_add_test(tc, test_server_traffic);
	tcase_add_test(tc, test_server_reconnect);
	tcase_add_test(tc, test_server_back_with_fewer_pairs);
	tcase_add_test(tc, test_server_timeout);
	tcase_add_test(tc, test_server_refuses_file);
	tcase_add_test(tc, test_server_stale_and_live_socket);
	tcase_add_test(tc, test_server_close_keeps_other_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
