/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal vhost-user backend for the tests, written from the protocol
 * (QEMU docs/interop/vhost-user.rst) and the split ring (virtio spec 2.7):
 * device side of up to VUB_MAX_PAIRS queue pairs (each pair looped back on
 * itself) over the memory the frontend shares.
 * Every wait is bounded; the child exits when the frontend hangs up or
 * after max_seconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/platform.h"
#include "transport/vhost_user.h"
#include "base/virtio_spec.h"
#include "vu_backend.h"

#define HDR 12u /* virtio_net_hdr with VERSION_1 */
#define NQ (2 * VUB_MAX_PAIRS)
#define F_EVENT_IDX (1ull << 29)

struct region {
	uint64_t gpa, size, uva;
	uint8_t *base;   /* our mapping of gpa */
	void *map;
	size_t map_len;
};

struct bq {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size, last_avail, used_idx;
	int kick_fd, call_fd;
	bool addr_set, started, enabled;
};

struct be {
	const struct vub_conf *c;
	struct vub_stats *st;
	int conn;
	uint64_t acked;
	bool proto_acked, reply_ack;
	struct region reg[VHOST_USER_MAX_REGIONS];
	unsigned nreg;
	struct bq q[NQ];
	uint64_t seq_rx, seq_tx;
	uint8_t status;
};

static void unmap_all(struct be *b)
{
	unsigned i;

	for (i = 0; i < b->nreg; i++)
		munmap(b->reg[i].map, b->reg[i].map_len);
	b->nreg = 0;
}

static void *gpa_ptr(struct be *b, uint64_t a, uint64_t len)
{
	unsigned i;

	for (i = 0; i < b->nreg; i++)
		if (a >= b->reg[i].gpa && a - b->reg[i].gpa + len <= b->reg[i].size)
			return b->reg[i].base + (a - b->reg[i].gpa);
	return NULL;
}

static void *uva_ptr(struct be *b, uint64_t a)
{
	unsigned i;

	for (i = 0; i < b->nreg; i++)
		if (a >= b->reg[i].uva && a - b->reg[i].uva < b->reg[i].size)
			return b->reg[i].base + (a - b->reg[i].uva);
	return NULL;
}

/* ------------------------------------------------------------ rings -- */

static bool ev(const struct be *b)
{
	return (b->acked & F_EVENT_IDX) != 0;
}

/* Ask for kicks (want_kicks) or not, at the current position. */
static void set_notify(struct be *b, struct bq *q)
{
	uint16_t *avail_event = (uint16_t *)&q->used->ring[q->size];

	if (b->c->want_kicks) {
		if (ev(b))
			vnet_store16(avail_event, q->last_avail);
		else
			vnet_store16(&q->used->flags, 0);
	} else {
		if (ev(b))
			vnet_store16(avail_event, (uint16_t)(q->last_avail + 0x8000));
		else
			vnet_store16(&q->used->flags, VRING_USED_F_NO_NOTIFY);
	}
	vnet_mb();
}

static bool q_ready(const struct bq *q)
{
	return q->addr_set && q->started && q->enabled;
}

static uint16_t q_pending(const struct bq *q)
{
	return (uint16_t)(vnet_load16(&q->avail->idx) - q->last_avail);
}

static void q_used(struct bq *q, uint32_t id, uint32_t len)
{
	struct vring_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	e->id = id;
	e->len = len;
	q->used_idx++;
}

static void q_publish(struct be *b, struct bq *q, uint16_t old)
{
	bool call;

	vnet_wmb();
	vnet_store16(&q->used->idx, q->used_idx);
	vnet_mb();
	if (ev(b))
		call = vring_need_event(vnet_load16(&q->avail->ring[q->size]), q->used_idx, old);
	else
		call = !(vnet_load16(&q->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	if (call && q->call_fd >= 0) {
		uint64_t one = 1;
		b->st->calls++;
		if (write(q->call_fd, &one, 8) < 0)
			return;
	}
}

/* Gather a TX chain (header first) into @frame; @return frame length or -1. */
static int tx_gather(struct be *b, struct bq *q, uint16_t head, uint8_t *frame, uint32_t max)
{
	uint32_t off = 0, skip = HDR, n;
	uint16_t id = head;

	for (n = 0; n < q->size; n++) {
		struct vring_desc d;
		uint8_t *p;

		if (id >= q->size)
			return -1;
		d = q->desc[id];
		p = gpa_ptr(b, d.addr, d.len);
		if (!p || (d.flags & VRING_DESC_F_WRITE))
			return -1;
		if (skip) {
			uint32_t s = d.len < skip ? d.len : skip;
			p += s;
			d.len -= s;
			skip -= s;
		}
		if (off + d.len > max)
			return -1;
		memcpy(frame + off, p, d.len);
		off += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return skip ? -1 : (int)off;
		id = d.next;
	}
	return -1;
}

/* Write header + frame into the RX buffer at @head; @return used len or -1. */
static int rx_put(struct be *b, struct bq *q, uint16_t head, const uint8_t *frame, uint32_t len)
{
	struct vring_desc d;
	uint8_t *p;

	if (head >= q->size)
		return -1;
	d = q->desc[head];
	if (!(d.flags & VRING_DESC_F_WRITE) || d.len < HDR + len || !(p = gpa_ptr(b, d.addr, d.len)))
		return -1;
	memset(p, 0, HDR);
	memcpy(p + HDR, frame, len);
	return (int)(HDR + len);
}

static bool frame_ok(uint64_t seq, const uint8_t *f, uint32_t len)
{
	uint32_t i;
	uint64_t s;

	if (len < 22)
		return false;
	memcpy(&s, f + 14, 8);
	if (s != seq)
		return false;
	for (i = 22; i < len; i++)
		if (f[i] != vub_pattern(seq, i))
			return false;
	return true;
}

/* One pass over pair @pair's rings. @return work done. */
static unsigned process_pair(struct be *b, unsigned pair)
{
	static uint8_t frame[65536];
	struct bq *rx = &b->q[2 * pair], *tx = &b->q[2 * pair + 1];
	uint16_t rx_old = rx->used_idx, tx_old = tx->used_idx;
	unsigned work = 0, i;

	if (!q_ready(rx) || !q_ready(tx))
		return 0;
	for (i = 0; i < 64; i++) {
		uint16_t th, rh;
		int len, ul;

		if (b->c->mode == VUB_SOURCE) {
			if (b->seq_rx >= b->c->source_count || !q_pending(rx))
				break;
			len = (int)b->c->source_len;
			memset(frame, 0xff, 6);
			memcpy(frame + 6, "\x02\x00\x00\x00\x00\x09\x88\xb5", 8);
			memcpy(frame + 14, &b->seq_rx, 8);
			for (ul = 22; ul < len; ul++)
				frame[ul] = vub_pattern(b->seq_rx, (uint32_t)ul);
			vnet_rmb();
			rh = rx->avail->ring[rx->last_avail & (rx->size - 1)];
			rx->last_avail++;
			ul = rx_put(b, rx, rh, frame, (uint32_t)len);
			q_used(rx, rh, ul < 0 ? 0 : (uint32_t)ul);
			b->seq_rx++;
			b->st->rx_frames++;
			work++;
			continue;
		}
		if (!q_pending(tx) || !q_pending(rx))
			break;
		vnet_rmb();
		th = tx->avail->ring[tx->last_avail & (tx->size - 1)];
		tx->last_avail++;
		rh = rx->avail->ring[rx->last_avail & (rx->size - 1)];
		rx->last_avail++;
		len = tx_gather(b, tx, th, frame, sizeof(frame));
		q_used(tx, th, 0);
		if (len < 0) {
			b->st->tx_bad++;
			q_used(rx, rh, HDR); /* an empty frame: the driver drops it */
			continue;
		}
		b->st->tx_frames++;
		b->st->pair_frames[pair]++;
		ul = rx_put(b, rx, rh, frame, (uint32_t)len);
		q_used(rx, rh, ul < 0 ? 0 : (uint32_t)ul);
		if (ul >= 0)
			b->st->rx_frames++;
		work++;
	}
	if (b->c->mode == VUB_SOURCE) { /* sink and check TX */
		for (i = 0; i < 64 && q_pending(tx); i++) {
			uint16_t th;
			int len;

			vnet_rmb();
			th = tx->avail->ring[tx->last_avail & (tx->size - 1)];
			tx->last_avail++;
			len = tx_gather(b, tx, th, frame, sizeof(frame));
			q_used(tx, th, 0);
			if (len >= 0 && frame_ok(b->seq_tx, frame, (uint32_t)len))
				b->st->tx_frames++;
			else
				b->st->tx_bad++;
			b->seq_tx++;
			work++;
		}
	}
	if (rx->used_idx != rx_old)
		q_publish(b, rx, rx_old);
	if (tx->used_idx != tx_old)
		q_publish(b, tx, tx_old);
	return work;
}

/* Every pair whose rings are ready; the source mode serves pair 0. */
static unsigned process(struct be *b)
{
	unsigned p, work = 0;

	for (p = 0; p < (b->c->mode == VUB_SOURCE ? 1u : VUB_MAX_PAIRS); p++)
		work += process_pair(b, p);
	return work;
}

static bool any_ready(const struct be *b)
{
	unsigned p;

	for (p = 0; p < VUB_MAX_PAIRS; p++)
		if (q_ready(&b->q[2 * p]) && q_ready(&b->q[2 * p + 1]))
			return true;
	return false;
}

/* ---------------------------------------------------------- messages -- */

static int recv_msg(struct be *b, struct vhost_user_msg *m, int *fds, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {m, sizeof(m->hdr)};
	struct msghdr mh = {0};
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(b->conn, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(m->hdr))
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), sizeof(int) * *nfds);
		}
	}
	if (m->hdr.size > sizeof(m->p))
		return -1;
	if (m->hdr.size && recv(b->conn, &m->p, m->hdr.size, MSG_WAITALL) != (ssize_t)m->hdr.size)
		return -1;
	return 0;
}

static void reply(struct be *b, struct vhost_user_msg *m, uint32_t size)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	m->hdr.size = size;
	if (send(b->conn, m, sizeof(m->hdr) + size, MSG_NOSIGNAL) < 0)
		return;
}

static void reply_u64(struct be *b, struct vhost_user_msg *m, uint64_t v)
{
	m->p.u64 = v;
	reply(b, m, 8);
}

static void set_mem_table(struct be *b, struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	unsigned i;

	unmap_all(b);
	for (i = 0; i < m->p.mem.nregions && i < nfds && i < VHOST_USER_MAX_REGIONS; i++) {
		struct vhost_user_region r;
		struct region *g = &b->reg[b->nreg];

		memcpy(&r, (uint8_t *)m + sizeof(m->hdr) + offsetof(struct vhost_user_mem, r) +
		       i * sizeof(r), sizeof(r));
		g->map_len = r.size + r.mmap_offset;
		g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
		if (g->map == MAP_FAILED)
			continue;
		g->base = (uint8_t *)g->map + r.mmap_offset;
		g->gpa = r.guest_addr;
		g->size = r.size;
		g->uva = r.user_addr;
		b->nreg++;
	}
	b->st->mem_tables++;
	b->st->nregions = b->nreg;
}

/* @return 0 to go on, -1 to hang up. */
static int handle(struct be *b)
{
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_REGIONS];
	unsigned nfds, i;
	bool need_reply;
	uint32_t idx;
	int ack = 0;

	if (recv_msg(b, &m, fds, &nfds))
		return -1;
	b->st->msgs++;
	need_reply = (m.hdr.flags & VHOST_USER_FLAG_NEED_REPLY) && b->reply_ack;
	idx = m.p.state.index;
	switch (m.hdr.request) {
	case VHOST_USER_SET_OWNER:
		b->st->set_owner++;
		break;
	case VHOST_USER_GET_FEATURES:
		reply_u64(b, &m, b->c->features | (b->c->no_proto_bit ? 0 : VHOST_USER_F_PROTOCOL_FEATURES));
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(b, &m, b->c->proto);
		return 0;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		b->reply_ack = (m.p.u64 >> VHOST_USER_PROTOCOL_F_REPLY_ACK) & 1;
		break;
	case VHOST_USER_SET_FEATURES:
		if (m.p.u64 & b->c->refuse) {
			b->st->refused++;
			if (b->c->refuse_by_hangup)
				return -1;
			ack = 1;
			break;
		}
		b->acked = m.p.u64;
		b->st->acked_features = m.p.u64;
		break;
	case VHOST_USER_SET_MEM_TABLE:
		set_mem_table(b, &m, fds, nfds);
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (idx < NQ)
			b->q[idx].size = (uint16_t)m.p.state.num;
		break;
	case VHOST_USER_SET_VRING_BASE:
		if (idx < NQ)
			b->q[idx].last_avail = b->q[idx].used_idx = (uint16_t)m.p.state.num;
		break;
	case VHOST_USER_SET_VRING_ADDR: {
		struct vhost_user_addr a;
		memcpy(&a, &m.p, sizeof(a));
		idx = a.index;
		if (idx >= NQ || !(b->q[idx].desc = uva_ptr(b, a.desc)) ||
		    !(b->q[idx].avail = uva_ptr(b, a.avail)) || !(b->q[idx].used = uva_ptr(b, a.used))) {
			ack = 1;
			break;
		}
		b->q[idx].addr_set = true;
		b->st->vring_addr++;
		break;
	}
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
		idx = (uint32_t)(m.p.u64 & VHOST_USER_VRING_IDX_MASK);
		if (idx >= NQ || nfds != 1) {
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			ack = 1;
			break;
		}
		if (m.hdr.request == VHOST_USER_SET_VRING_KICK) {
			if (b->q[idx].kick_fd >= 0)
				close(b->q[idx].kick_fd);
			b->q[idx].kick_fd = fds[0];
			b->q[idx].started = true;
			/* without protocol features a ring starts enabled */
			if (!(b->acked & VHOST_USER_F_PROTOCOL_FEATURES))
				b->q[idx].enabled = true;
			if (b->q[idx].addr_set)
				set_notify(b, &b->q[idx]);
			b->st->vring_kick++;
		} else {
			if (b->q[idx].call_fd >= 0)
				close(b->q[idx].call_fd);
			b->q[idx].call_fd = fds[0];
			b->st->vring_call++;
		}
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		if (idx < NQ) {
			b->q[idx].enabled = m.p.state.num != 0;
			if (m.p.state.num)
				b->st->vring_enable_on++;
			b->st->enabled_rings = b->st->enabled_rings & ~(1ull << idx);
			b->st->enabled_rings |= (uint64_t)(m.p.state.num != 0) << idx;
		}
		break;
	case VHOST_USER_GET_QUEUE_NUM:
		reply_u64(b, &m, b->c->queue_pairs ? b->c->queue_pairs : 1);
		return 0;
	case VHOST_USER_SET_STATUS:
		b->status = (uint8_t)m.p.u64;
		b->st->status = b->status;
		b->st->set_status++;
		break;
	case VHOST_USER_GET_STATUS:
		reply_u64(b, &m, b->status);
		return 0;
	case VHOST_USER_GET_VRING_BASE:
		if (idx < NQ) {
			b->q[idx].started = b->q[idx].addr_set = false;
			m.p.state.num = b->q[idx].last_avail;
		}
		b->st->get_vring_base++;
		reply(b, &m, sizeof(struct vhost_user_state));
		return 0;
	case VHOST_USER_GET_CONFIG: {
		uint8_t img[12] = {0};
		uint32_t off = m.p.config.offset, size = m.p.config.size;
		memcpy(img, b->c->mac, 6);
		img[6] = VIRTIO_NET_S_LINK_UP;
		img[8] = 1;
		img[10] = 1500 & 0xff;
		img[11] = 1500 >> 8;
		b->st->get_config++;
		if (off + size > sizeof(m.p.config.payload)) {
			reply(b, &m, 0);
			return 0;
		}
		memset(m.p.config.payload, 0, sizeof(m.p.config.payload));
		for (i = 0; i < size; i++)
			m.p.config.payload[i] = off + i < 12 ? img[off + i] : 0;
		reply(b, &m, VHOST_USER_CONFIG_HDR + size);
		return 0;
	}
	default:
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		break;
	}
	if (need_reply)
		reply_u64(b, &m, (uint64_t)ack);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drain(int fd, struct vub_stats *st)
{
	uint64_t x;
	if (fd >= 0 && read(fd, &x, 8) == 8)
		st->kicks_seen += x;
}

/* The frontend's server mode: connect to its socket, retrying while it
 * is not there or not listening yet. @return the connection or -1. */
static int dial(const char *path)
{
	uint64_t end = now_ms() + 5000;
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	while (now_ms() < end) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		usleep(5000);
	}
	return -1;
}

static int serve(struct be *b, int lfd)
{
	uint64_t end = now_ms() + (b->c->max_seconds ? b->c->max_seconds : 10) * 1000ull;
	struct pollfd p[1 + NQ];
	unsigned i;

	if (b->c->connect) {
		b->conn = dial(b->c->path);
	} else {
		p[0].fd = lfd;
		p[0].events = POLLIN;
		if (poll(p, 1, 5000) != 1)
			return 1;
		b->conn = accept(lfd, NULL, NULL);
	}
	if (b->conn < 0)
		return 1;
	while (now_ms() < end) {
		bool run = any_ready(b);
		unsigned work = 0;
		int n, timeout;

		if (run) {
			work = process(b);
			if (b->c->want_kicks && !work) { /* ask for kicks, then look again */
				for (i = 0; i < NQ; i++)
					if (q_ready(&b->q[i]))
						set_notify(b, &b->q[i]);
				work = process(b);
			}
		}
		timeout = run && !b->c->want_kicks ? 0 : (work ? 0 : 50);
		p[0].fd = b->conn;
		p[0].events = POLLIN;
		p[0].revents = 0;
		for (i = 0; i < NQ; i++) {
			p[1 + i].fd = b->q[i].kick_fd;
			p[1 + i].events = POLLIN;
			p[1 + i].revents = 0;
		}
		n = poll(p, 1 + NQ, timeout);
		if (n < 0 && errno != EINTR)
			return 1;
		if (n <= 0)
			continue;
		for (i = 0; i < NQ; i++)
			if (p[1 + i].revents & POLLIN)
				drain(p[1 + i].fd, b->st);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (handle(b))
				return 0; /* frontend hung up, or we refused */
		}
	}
	return 2;
}

struct vub_stats *vub_stats_map(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void vub_stats_unmap(struct vub_stats *s)
{
	if (s)
		munmap(s, 4096);
}

pid_t vub_start(const struct vub_conf *c, struct vub_stats *st)
{
	struct sockaddr_un sa;
	int lfd = -1;
	pid_t pid;

	if (c->connect)
		goto fork_it;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	unlink(c->path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	/* listen before the fork: the socket exists when this returns */
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		close(lfd);
		return -1;
	}
fork_it:
	memset((void *)st, 0, sizeof(*st));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct be b;
		int rc;

		memset(&b, 0, sizeof(b));
		b.c = c;
		b.st = st;
		b.conn = -1;
		for (unsigned i = 0; i < NQ; i++)
			b.q[i].kick_fd = b.q[i].call_fd = -1;
		alarm((c->max_seconds ? c->max_seconds : 10) + 5); /* a hard bound */
		rc = serve(&b, lfd);
		if (!c->connect)
			unlink(c->path);
		_exit(rc);
	}
	if (lfd >= 0)
		close(lfd);
	return pid;
}

void vub_kill(pid_t pid)
{
	int i, status;

	if (pid <= 0)
		return;
	for (i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		if (i == 100)
			kill(pid, SIGKILL);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}
