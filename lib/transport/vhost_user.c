/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user frontend transport (QEMU docs/interop/vhost-user.rst): vnet
 * plays the frontend (the role of QEMU or DPDK's virtio_user), connects to
 * a backend's unix socket and shares its DMA memory and rings with it.
 *
 * How the virtio status handshake maps onto the protocol:
 *   open          connect, SET_OWNER, GET_FEATURES, protocol features,
 *                 GET_QUEUE_NUM (MQ protocol feature)
 *   reset         stop every started ring (SET_VRING_ENABLE 0 and
 *                 GET_VRING_BASE, which the backend answers only once it
 *                 has stopped touching the ring), forget the memory table,
 *                 SET_STATUS 0 (STATUS protocol feature); a backend that
 *                 went away is connected to again first (opts.reconnect)
 *   FEATURES_OK   SET_FEATURES (with REPLY_ACK the backend may refuse, and
 *                 without it a round trip shows whether it hung up); with
 *                 STATUS, SET_STATUS and GET_STATUS: the backend's word
 *   queue_setup   SET_MEM_TABLE of the device's own DMA memory (once per
 *                 reset; the regions vnet_dev gives set_dma_regions: its
 *                 rings, tables and pools, never another device's), then
 *                 SET_VRING_NUM/BASE/ADDR/CALL/KICK
 *   DRIVER_OK     SET_VRING_ENABLE 1 on the first pair (all queues set up
 *                 without MQ), SET_STATUS with STATUS
 *   config        GET_CONFIG with the CONFIG protocol feature, otherwise
 *                 synthesized (MAC from the options, link up); the pair
 *                 count is always the transport's
 * The connection is kept across resets: RESET_OWNER is deprecated.
 * Kicks are eventfd writes, made only when the ring asks (ring.h decides).
 * The backend gets a call eventfd per ring that is never read: vnet polls.
 * A backend that hangs up shows as DEVICE_NEEDS_RESET in the status.
 *
 * Who connects: by default vnet connects to the backend's socket (the
 * backend is the server, as for QEMU's default chardev). In server mode
 * (opts.server, virtio_user's server=1) vnet listens and the backend
 * connects (DPDK net_vhost's client=1); the protocol on the connection is
 * the same. The listening socket outlives each backend: a restarted one
 * connects again and the reset accepts it, so vnet, the longer-lived side,
 * owns the path.
 *
 * Multiqueue: a vhost-user backend serves data rings only, so the control
 * queue is the frontend's own (as QEMU and virtio_user do): its ring stays
 * in this process and vu_notify() answers each command at once. The one
 * command served is VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (spec 5.1.6.5.5),
 * turned into SET_VRING_ENABLE on every pair's two rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <vnet/linux.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#include "base/platform.h"
#include "transport/transport.h"
#include "transport/vhost_user.h"
#include "base/virtio_spec.h"

#define MAX_PAIRS VNET_VHOST_USER_MAX_PAIRS
#define NQUEUES (2 * MAX_PAIRS + 1)  /* the pairs' rings and the control queue */
#define DEF_QUEUE_MAX 1024
#define CTRL_QUEUE_MAX 64
#define DEF_TIMEOUT_MS 2000
#define NET_CONFIG_LEN 12           /* mac, status, max pairs, mtu (spec 5.1.4) */
#define BACKOFF_MIN_MS 50
#define DEF_BACKOFF_MAX_MS 1000
#define DEF_CONNECT_TIMEOUT_MS 10000 /* server mode: the first backend */
#define LISTEN_BACKLOG 4

/* Protocol features vnet implements, and so the only ones it accepts. */
#define PROTOCOL_WANTED ((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
                         (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
                         (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | \
                         (1ull << VHOST_USER_PROTOCOL_F_STATUS))

/* Features the transport provides itself when it synthesizes the config. */
#define EMULATED_FEATURES ((1ull << 5) /* MAC */ | (1ull << 16) /* STATUS */)
/* Backend bits that are no virtio feature, or need config vnet cannot give. */
#define MASKED_FEATURES (VHOST_USER_F_PROTOCOL_FEATURES | VHOST_F_LOG_ALL | (1ull << 3) /* MTU */)
/* The control queue and what needs it (spec 5.1.3): never the backend's
 * (it serves no control queue); CTRL_VQ and MQ are the transport's own. */
#define CTRL_FEATURES ((1ull << 2) /* CTRL_GUEST_OFFLOADS */ | (0x7full << 17) /* CTRL_VQ..CTRL_MAC_ADDR */ | \
                       (1ull << 53) /* NOTF_COAL */ | (1ull << 57) /* HASH_REPORT */ | (1ull << 60) /* RSS */)
#define F_CTRL_VQ (1ull << 17)
#define F_MQ (1ull << 22)
#define F_RING_PACKED (1ull << 34)

struct vu_queue {
	int kick_fd, call_fd;
	uint16_t size;
	bool set_up, enabled;
	bool local;                 /* the control queue: served here, never the backend's */
};

/* A packed ring's descriptor (spec 2.8.13) and its flags (2.8.1). */
struct vu_pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};
_Static_assert(sizeof(struct vu_pdesc) == 16, "spec 2.8.13");
#define PDESC_F_AVAIL (1u << 7)
#define PDESC_F_USED  (1u << 15)

/* The control queue's ring, in this process's memory: split (desc,
 * avail, used) or packed (pdesc; last_avail is then a free-running
 * position whose lap gives the wrap counter, as in the driver). */
struct vu_ctrl {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vu_pdesc *pdesc;
	uint16_t size, last_avail;
};

#define CTRL_SEGS 4 /* descriptors of one command looked at: vnet's use two */

struct vu_transport {
	struct vnet_transport base;
	int sock;
	bool dead, closing;
	uint8_t status;
	uint64_t dev_features;      /* backend's offer, raw */
	uint64_t proto;             /* negotiated protocol features */
	uint64_t features;          /* the driver's choice */
	bool table_sent;
	uint32_t generation;
	uint32_t timeout_ms;
	uint16_t queue_max;
	uint16_t max_pairs;         /* offered to the driver: GET_QUEUE_NUM, clamped */
	uint16_t pairs_on;          /* pairs whose rings are enabled */
	uint8_t mac[6];
	uint8_t backend_status;
	struct vnet_dma region[VHOST_USER_MAX_REGIONS]; /* the device's memory (set_dma_regions) */
	unsigned nregions;
	struct vu_queue q[NQUEUES];
	struct vu_ctrl ctrl;
	bool reconnect;
	bool server;                /* vnet listens on path (lfd), the backend connects */
	bool own_path;              /* path is the socket vnet bound (remove it at close) */
	int lfd;                    /* server: the listening socket, non-blocking */
	dev_t path_dev;             /* server: what path was once bound, so that */
	ino_t path_ino;             /* close removes nothing that replaced it */
	uint32_t connect_timeout_ms;
	uint32_t backoff_ms, backoff_max_ms;
	uint64_t next_try_us;
	struct vnet_vhost_user_stats st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct vu_transport *to_vu(struct vnet_transport *t)
{
	return (struct vu_transport *)t;
}

static bool has_proto(const struct vu_transport *v, unsigned bit)
{
	return (v->proto >> bit) & 1;
}

static void gone(struct vu_transport *v, const char *when)
{
	if (!v->dead) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: backend went away (%s)", v->path, when);
		v->st.disconnects++;
	}
	v->dead = true;
}

/* ------------------------------------------------------------ messages -- */

/* Send one message with up to VHOST_USER_MAX_REGIONS fds. 0 or -errno. */
static int vu_send(struct vu_transport *v, struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {m, sizeof(m->hdr) + m->hdr.size};
	struct msghdr mh = {0};
	ssize_t n;

	if (v->dead)
		return -ECONNRESET;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(v->sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) {
			gone(v, "send");
			return -ECONNRESET;
		}
		vnet_log(VNET_LOG_ERR, "vhost-user %s: send: %s", v->path, vnet_strerror(-e));
		return -e;
	}
	if ((size_t)n != iov.iov_len) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: short send", v->path);
		return -EIO;
	}
	return 0;
}

/* Read exactly @len bytes before @deadline_us. */
static int read_full(struct vu_transport *v, void *buf, size_t len, uint64_t deadline_us)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = {v->sock, POLLIN, 0};
		uint64_t now = vnet_now_us();
		ssize_t n;
		int rc;

		if (now >= deadline_us)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)((deadline_us - now + 999) / 1000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		n = recv(v->sock, p, len, MSG_DONTWAIT);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return errno == EPIPE || errno == ECONNRESET ? -ECONNRESET : -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Wait for the reply to @request; its payload goes to @out (up to @max). */
static int vu_recv(struct vu_transport *v, uint32_t request, struct vhost_user_msg *out, uint32_t max)
{
	uint64_t deadline = vnet_now_us() + (uint64_t)v->timeout_ms * 1000u;
	int rc;

	if (v->dead)
		return -ECONNRESET;
	rc = read_full(v, &out->hdr, sizeof(out->hdr), deadline);
	if (rc == 0 && out->hdr.size > sizeof(out->p)) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: reply of %u bytes is too large", v->path,
		         out->hdr.size);
		rc = -EPROTO;
	}
	if (rc == 0)
		rc = read_full(v, &out->p, out->hdr.size, deadline);
	if (rc == -ECONNRESET) {
		gone(v, "waiting for a reply");
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: no reply to request %u within %u ms", v->path,
		         request, v->timeout_ms);
		return rc;
	}
	if (rc)
		return rc;
	if (out->hdr.request != request || !(out->hdr.flags & VHOST_USER_FLAG_REPLY) ||
	    (out->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION || out->hdr.size > max) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: bad reply (request %u flags 0x%x size %u) to "
		         "request %u", v->path, out->hdr.request, out->hdr.flags, out->hdr.size, request);
		return -EPROTO;
	}
	return 0;
}

static void msg_init(struct vhost_user_msg *m, uint32_t request, uint32_t size)
{
	memset(m, 0, sizeof(m->hdr) + size);
	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
}

/*
 * Send a request that has no reply of its own. With REPLY_ACK, ask for
 * the acknowledgement and turn a non-zero one into -EPROTO (the backend
 * refused), so that failures surface where they happen.
 */
static int vu_request(struct vu_transport *v, struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	uint32_t request = m->hdr.request;
	struct vhost_user_msg r;
	int rc;

	if (has_proto(v, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		m->hdr.flags |= VHOST_USER_FLAG_NEED_REPLY;
	rc = vu_send(v, m, fds, nfds);
	if (rc || !has_proto(v, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		return rc;
	rc = vu_recv(v, request, &r, sizeof(uint64_t));
	if (rc)
		return rc;
	if (r.hdr.size != sizeof(uint64_t) || r.p.u64 != 0) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: backend refused request %u", v->path, request);
		return -EPROTO;
	}
	return 0;
}

static int vu_get_u64(struct vu_transport *v, uint32_t request, uint64_t *out)
{
	struct vhost_user_msg m;
	int rc;

	msg_init(&m, request, 0);
	rc = vu_send(v, &m, NULL, 0);
	if (!rc)
		rc = vu_recv(v, request, &m, sizeof(uint64_t));
	if (!rc && m.hdr.size != sizeof(uint64_t))
		rc = -EPROTO;
	if (!rc)
		*out = m.p.u64;
	return rc;
}

static int vu_set_u64(struct vu_transport *v, uint32_t request, uint64_t val, int fd)
{
	struct vhost_user_msg m;

	msg_init(&m, request, sizeof(uint64_t));
	m.p.u64 = val;
	return vu_request(v, &m, &fd, fd >= 0 ? 1 : 0);
}

static int vu_set_state(struct vu_transport *v, uint32_t request, uint32_t index, uint32_t num)
{
	struct vhost_user_msg m;

	msg_init(&m, request, sizeof(struct vhost_user_state));
	m.p.state.index = index;
	m.p.state.num = num;
	return vu_request(v, &m, NULL, 0);
}


static const struct vnet_transport_ops vu_ops;

static bool is_vu(const struct vnet_transport *t)
{
	return t && t->ops == &vu_ops;
}

/* ---------------------------------------------------------- liveness -- */

int vnet_vhost_user_alive(struct vnet_transport *t)
{
	struct vu_transport *v = to_vu(t);
	struct pollfd pfd;
	unsigned i;

	if (!is_vu(t))
		return -EINVAL;
	if (v->dead)
		return -ECONNRESET;
	pfd.fd = v->sock;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0) {
		char c;
		if (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL) ||
		    recv(v->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
			gone(v, "liveness check");
			return -ECONNRESET;
		}
	}
	/* The call eventfds are never waited on; keep their counters low. */
	for (i = 0; i < NQUEUES; i++) {
		uint64_t x;
		if (v->q[i].call_fd >= 0 && read(v->q[i].call_fd, &x, sizeof(x)) < 0)
			continue;
	}
	return 0;
}

int vnet_vhost_user_stats(struct vnet_transport *t, struct vnet_vhost_user_stats *out)
{
	struct vu_transport *v = to_vu(t);

	if (!is_vu(t) || !out)
		return -EINVAL;
	*out = v->st;
	out->protocol_features = v->proto;
	out->max_pairs = v->max_pairs;
	out->pairs_enabled = v->pairs_on;
	out->backend_status = v->backend_status;
	out->connected = !v->dead;
	return 0;
}

/* ------------------------------------------------------- memory table -- */

/* The address in this process of @len bytes at @iova of the device's
 * memory; NULL when they are not inside one of its regions. */
static void *iova_va(const struct vu_transport *v, uint64_t iova, uint64_t len)
{
	unsigned i;

	for (i = 0; i < v->nregions; i++) {
		const struct vnet_dma *g = &v->region[i];

		if (iova >= g->iova && iova - g->iova < g->len && len <= g->len - (iova - g->iova))
			return (uint8_t *)g->va + (iova - g->iova);
	}
	return NULL;
}

/*
 * Tell the backend about the device's DMA memory (set_dma_regions: its
 * rings, tables and pools; never another device's in this process):
 * guest address = iova (what descriptors carry), user address = our
 * virtual address (what ring addresses are, spec "Memory access").
 */
static int send_mem_table(struct vu_transport *v)
{
	int fds[VHOST_USER_MAX_REGIONS];
	struct vhost_user_msg m;
	unsigned i, k = 0;
	int rc;

	msg_init(&m, VHOST_USER_SET_MEM_TABLE, sizeof(struct vhost_user_mem));
	for (i = 0; i < v->nregions; i++) {
		struct vhost_user_region r;

		if (v->region[i].fd < 0)
			continue; /* not shareable: it cannot hold rings or buffers */
		r.guest_addr = v->region[i].iova;
		r.size = v->region[i].len;
		r.user_addr = (uint64_t)(uintptr_t)v->region[i].va;
		r.mmap_offset = v->region[i].fd_off;
		memcpy((uint8_t *)&m + sizeof(m.hdr) + offsetof(struct vhost_user_mem, r) + k * sizeof(r),
		       &r, sizeof(r));
		fds[k++] = v->region[i].fd;
	}
	m.p.mem.nregions = k;
	m.hdr.size = (uint32_t)(offsetof(struct vhost_user_mem, r) + k * sizeof(struct vhost_user_region));
	rc = vu_request(v, &m, fds, k);
	if (rc)
		return rc;
	v->table_sent = true;
	vnet_log(VNET_LOG_DEBUG, "vhost-user %s: memory table of %u regions sent", v->path, k);
	return 0;
}

/* The device's memory; sent with the next queue set-up, or at once if the
 * backend has a table already (a pool shared later: the spec lets the
 * front-end send SET_MEM_TABLE again at any time). */
static int vu_set_dma_regions(struct vnet_transport *t, const struct vnet_dma *r, unsigned n)
{
	struct vu_transport *v = to_vu(t);

	if (n > VHOST_USER_MAX_REGIONS) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: the device has %u DMA regions; a backend maps at "
		         "most %u (fewer queues or shared pools)", v->path, n, VHOST_USER_MAX_REGIONS);
		return -E2BIG;
	}
	if (n)
		memcpy(v->region, r, n * sizeof(*r));
	v->nregions = n;
	if (n && v->table_sent && !v->dead)
		return send_mem_table(v);
	return 0;
}

/* ------------------------------------------------------------- queues -- */

static bool packed(const struct vu_transport *v)
{
	return (v->features & F_RING_PACKED) != 0;
}

/* The transport serves the control queue itself when the backend can
 * enable rings one pair at a time (the MQ protocol feature). */
static bool ctrl_emulated(const struct vu_transport *v)
{
	return has_proto(v, VHOST_USER_PROTOCOL_F_MQ);
}

/* The control queue's index once features are set (spec 5.1.2). */
static uint16_t ctrl_index(const struct vu_transport *v)
{
	return (v->features & F_MQ) ? (uint16_t)(2u * v->max_pairs) : 2u;
}

static bool is_ctrl(const struct vu_transport *v, uint16_t qi)
{
	return ctrl_emulated(v) && (v->features & F_CTRL_VQ) && qi == ctrl_index(v);
}

static int ring_enable(struct vu_transport *v, uint16_t qi, bool on)
{
	struct vu_queue *q = &v->q[qi];
	int rc = 0;

	if (!q->set_up || q->local || q->enabled == on)
		return 0;
	/* without protocol features the rings start enabled (spec "Ring states") */
	if (v->dev_features & VHOST_USER_F_PROTOCOL_FEATURES)
		rc = vu_set_state(v, VHOST_USER_SET_VRING_ENABLE, qi, on);
	if (rc) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: %sabling ring %u failed", v->path, on ? "en" : "dis",
		         (unsigned)qi);
		return rc;
	}
	q->enabled = on;
	return 0;
}

/* Enable the rings of pairs 0..@pairs-1 and disable the others' (spec
 * 5.1.6.5.5: the device uses only the first @pairs pairs). */
static int set_pairs(struct vu_transport *v, uint16_t pairs)
{
	uint16_t p;
	int rc = 0;

	for (p = 0; p < MAX_PAIRS && !rc; p++) {
		rc = ring_enable(v, (uint16_t)(2 * p), p < pairs);
		if (!rc)
			rc = ring_enable(v, (uint16_t)(2 * p + 1), p < pairs);
	}
	if (rc)
		return rc;
	v->pairs_on = pairs;
	vnet_log(VNET_LOG_DEBUG, "vhost-user %s: %u queue pairs enabled", v->path, (unsigned)pairs);
	return 0;
}

/* Stop ring @qi: the backend answers GET_VRING_BASE only once it no
 * longer touches the ring. Its answer is checked, never used: a ring
 * starts afresh at the next set-up. */
static int ring_stop(struct vu_transport *v, uint16_t qi)
{
	struct vu_queue *q = &v->q[qi];
	struct vhost_user_msg m;
	uint32_t num;
	int rc;

	if (q->enabled && (v->dev_features & VHOST_USER_F_PROTOCOL_FEATURES))
		vu_set_state(v, VHOST_USER_SET_VRING_ENABLE, qi, 0);
	msg_init(&m, VHOST_USER_GET_VRING_BASE, sizeof(struct vhost_user_state));
	m.p.state.index = qi;
	rc = vu_send(v, &m, NULL, 0);
	if (!rc)
		rc = vu_recv(v, VHOST_USER_GET_VRING_BASE, &m, sizeof(struct vhost_user_state));
	if (rc)
		return rc;
	num = m.p.state.num;
	/* split: the next avail index, 16 bits; packed: 15 bits of index
	 * below the ring size and the wrap counter in bit 15 */
	if (m.hdr.size != sizeof(struct vhost_user_state) || m.p.state.index != qi || num > 0xffffu ||
	    (packed(v) && (num & VHOST_USER_VRING_PACKED_IDX) >= q->size)) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: bad GET_VRING_BASE answer for ring %u (index %u, "
		         "base 0x%x)", v->path, (unsigned)qi, m.p.state.index, num);
		return -EPROTO;
	}
	return 0;
}

static void forget_queues(struct vu_transport *v)
{
	unsigned i;

	for (i = 0; i < NQUEUES; i++)
		v->q[i].set_up = v->q[i].enabled = v->q[i].local = false;
	memset(&v->ctrl, 0, sizeof(v->ctrl));
	v->pairs_on = 0;
}

/* ----------------------------------------------------- control queue -- */

/* One command (spec 5.1.6.5) gathered as @n descriptors (the split
 * layout's; the packed ones converted): device-readable class, command
 * and data, then the device-writable ack byte. Only the MQ command is
 * served. Returns the ack written, or -1: no ack byte. */
static int ctrl_exec(struct vu_transport *v, const struct vring_desc *seg, unsigned n)
{
	uint8_t cmd[8], *ack = NULL;
	uint32_t have = 0;
	uint16_t pairs;
	uint8_t res = VIRTIO_NET_ERR;
	unsigned i;

	for (i = 0; i < n && !ack; i++) {
		uint8_t *p = iova_va(v, seg[i].addr, seg[i].len);

		if (!p || !seg[i].len)
			break;
		if (seg[i].flags & VRING_DESC_F_WRITE) {
			ack = p;
		} else {
			if (have < sizeof(cmd))
				memcpy(cmd + have, p, seg[i].len < sizeof(cmd) - have ? seg[i].len : sizeof(cmd) - have);
			have += seg[i].len;
		}
	}
	if (!ack)
		return -1;
	if (have == 4 && cmd[0] == VIRTIO_NET_CTRL_MQ && cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) {
		pairs = (uint16_t)(cmd[2] | cmd[3] << 8);
		if (pairs >= 1 && pairs <= v->max_pairs && (v->features & F_MQ) && set_pairs(v, pairs) == 0)
			res = VIRTIO_NET_OK;
	}
	*ack = res;
	v->st.ctrl_commands++;
	return res;
}

/* Split: the chain at @head, at most CTRL_SEGS descriptors of it. */
static int ctrl_split_one(struct vu_transport *v, uint16_t head)
{
	struct vu_ctrl *c = &v->ctrl;
	struct vring_desc seg[CTRL_SEGS];
	unsigned n = 0;
	uint16_t i = head;

	while (n < CTRL_SEGS && i < c->size) {
		seg[n] = c->desc[i];
		i = seg[n].next;
		if (!(seg[n++].flags & VRING_DESC_F_NEXT))
			break;
	}
	return ctrl_exec(v, seg, n);
}

/* Serve every command made available since the last notification, in
 * order, each completed with a used entry of one written byte. */
static void ctrl_serve_split(struct vu_transport *v)
{
	struct vu_ctrl *c = &v->ctrl;
	uint16_t avail = vnet_load16(&c->avail->idx);

	vnet_rmb();
	while (c->last_avail != avail) {
		uint16_t slot = c->last_avail & (uint16_t)(c->size - 1);
		uint16_t head = vnet_load16(&c->avail->ring[slot]);
		int ack = ctrl_split_one(v, head);

		c->used->ring[slot].id = head;
		c->used->ring[slot].len = ack < 0 ? 0 : 1;
		c->last_avail++;
		vnet_wmb();
		vnet_store16(&c->used->idx, c->last_avail);
	}
}

/* Is the packed descriptor at position @pos available in its lap (spec
 * 2.8.1: AVAIL equal to the wrap counter, USED not)? */
static bool pk_avail(const struct vu_ctrl *c, uint16_t pos)
{
	uint16_t f = vnet_load16(&c->pdesc[pos & (c->size - 1)].flags);
	bool wrap = (pos & c->size) == 0;

	return ((f & PDESC_F_AVAIL) != 0) == wrap && ((f & PDESC_F_USED) != 0) != wrap;
}

/* Packed (spec 2.8.6, 2.8.4): a chain is descriptors in ring order, the
 * buffer id on its last; its completion goes over its first, with AVAIL
 * and USED both the lap's wrap counter, flags last; the next chain starts
 * past it. */
static void ctrl_serve_packed(struct vu_transport *v)
{
	struct vu_ctrl *c = &v->ctrl;
	unsigned cmds;

	for (cmds = 0; cmds < c->size && pk_avail(c, c->last_avail); cmds++) {
		uint16_t pos = c->last_avail, id = 0, n = 0;
		struct vu_pdesc *h = &c->pdesc[pos & (c->size - 1)];
		struct vring_desc seg[CTRL_SEGS];
		bool more = true;
		int ack;

		vnet_rmb();
		while (more && n < c->size && (n == 0 || pk_avail(c, (uint16_t)(pos + n)))) {
			const struct vu_pdesc d = c->pdesc[(pos + n) & (c->size - 1)];

			if (n < CTRL_SEGS) {
				seg[n].addr = d.addr;
				seg[n].len = d.len;
				seg[n].flags = d.flags & VRING_DESC_F_WRITE;
			}
			id = d.id;
			more = (d.flags & VRING_DESC_F_NEXT) != 0;
			n++;
		}
		ack = ctrl_exec(v, seg, n < CTRL_SEGS ? n : CTRL_SEGS);
		h->id = id;
		h->len = ack < 0 ? 0 : 1;
		vnet_wmb();
		vnet_store16(&h->flags, (pos & c->size) ? 0 : (uint16_t)(PDESC_F_AVAIL | PDESC_F_USED));
		c->last_avail = (uint16_t)(pos + n);
	}
}

static void ctrl_serve(struct vu_transport *v)
{
	if (v->ctrl.pdesc)
		ctrl_serve_packed(v);
	else
		ctrl_serve_split(v);
}

/* The control queue: its ring stays here (the backend never sees it). */
static int ctrl_setup(struct vu_transport *v, uint16_t qi, uint16_t size, const struct vnet_vq_addrs *a)
{
	struct vu_ctrl *c = &v->ctrl;
	bool ok;

	memset(c, 0, sizeof(*c));
	if (packed(v)) {
		c->pdesc = iova_va(v, a->desc, (uint64_t)size * sizeof(struct vu_pdesc));
		ok = c->pdesc != NULL;
	} else {
		c->desc = iova_va(v, a->desc, (uint64_t)size * sizeof(struct vring_desc));
		c->avail = iova_va(v, a->avail, sizeof(struct vring_avail) + 2u * size);
		c->used = iova_va(v, a->used, sizeof(struct vring_used) + (uint64_t)size * sizeof(struct vring_used_elem));
		ok = c->desc && c->avail && c->used;
	}
	if (!ok) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: control queue %u is not in the device's DMA memory",
		         v->path, (unsigned)qi);
		memset(c, 0, sizeof(*c));
		return -EFAULT;
	}
	c->size = size;
	v->q[qi].size = size;
	v->q[qi].set_up = v->q[qi].enabled = v->q[qi].local = true;
	return 0;
}

/* -------------------------------------------------------- reconnecting -- */

static int vu_connect(struct vu_transport *v, const char *path, bool quiet);
static int vu_accept(struct vu_transport *v);
static int vu_handshake(struct vu_transport *v);

/*
 * The backend went away: connect to the same path again (server mode:
 * accept the next backend that connected, without waiting) and redo the
 * handshake, at most once per backoff interval (doubling up to the cap;
 * back to the minimum once connected). The new backend must offer the
 * same features and at least the queue pairs offered to the driver
 * already (the device layer sized its queues by them). 0 or -ECONNRESET.
 */
static int vu_reconnect(struct vu_transport *v)
{
	uint64_t now = vnet_now_us(), feat = v->dev_features, proto = v->proto;
	uint16_t pairs = v->max_pairs;
	int rc;

	if (!v->reconnect || v->closing || now < v->next_try_us)
		return -ECONNRESET;
	v->st.reconnect_tries++;
	if (v->sock >= 0)
		close(v->sock);
	v->sock = -1;
	v->proto = 0; /* REPLY_ACK is not in force before the backend knows it */
	rc = v->server ? vu_accept(v) : vu_connect(v, v->path, true);
	if (!rc) {
		v->dead = false;
		rc = vu_handshake(v);
	}
	if (!rc && (v->dev_features != feat || v->max_pairs < pairs)) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: the backend is back with features 0x%llx and %u "
		         "queue pairs (had 0x%llx and %u)", v->path, (unsigned long long)v->dev_features,
		         (unsigned)v->max_pairs, (unsigned long long)feat, (unsigned)pairs);
		rc = -EPROTO;
	}
	if (rc) {
		v->dead = true;
		v->dev_features = feat;
		v->proto = proto;
		v->max_pairs = pairs;
		v->next_try_us = now + (uint64_t)v->backoff_ms * 1000u;
		v->backoff_ms = v->backoff_ms * 2 < v->backoff_max_ms ? v->backoff_ms * 2 : v->backoff_max_ms;
		return -ECONNRESET;
	}
	v->max_pairs = pairs; /* what the driver was told stays */
	v->backoff_ms = BACKOFF_MIN_MS;
	v->st.reconnects++;
	vnet_log(VNET_LOG_INFO, "vhost-user %s: reconnected (%llu so far)", v->path,
	         (unsigned long long)v->st.reconnects);
	return 0;
}

/* ---------------------------------------------------------- transport -- */

static int send_status(struct vu_transport *v, uint8_t status)
{
	if (!has_proto(v, VHOST_USER_PROTOCOL_F_STATUS))
		return 0;
	return vu_set_u64(v, VHOST_USER_SET_STATUS, status, -1);
}

/* Stop every started ring (the backend answers GET_VRING_BASE only once
 * it no longer touches the ring, so its memory may be freed afterwards).
 * A backend that went away touches nothing any more: reconnect to it
 * (when asked to) and start from scratch. */
static int vu_reset(struct vnet_transport *t)
{
	struct vu_transport *v = to_vu(t);
	uint16_t i;
	int rc = 0;

	if (v->dead) {
		forget_queues(v);
		vu_reconnect(v);
	}
	for (i = 0; i < NQUEUES && !v->dead && !rc; i++)
		if (v->q[i].set_up && !v->q[i].local)
			rc = ring_stop(v, i);
	if (!rc && !v->dead && v->status)
		rc = send_status(v, 0);
	forget_queues(v);
	v->status = 0;
	v->backend_status = 0;
	v->features = 0;
	v->table_sent = false;
	if (v->dead)
		return -ECONNRESET;
	return rc;
}

static uint8_t vu_get_status(struct vnet_transport *t)
{
	struct vu_transport *v = to_vu(t);

	if (v->dead || vnet_vhost_user_alive(t))
		return (uint8_t)(v->status | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	return v->status;
}

/* SET_FEATURES, then make sure the backend took them: with REPLY_ACK it
 * says so; without, a GET_FEATURES round trip shows it did not hang up.
 * What the transport provides itself stays here. */
static int send_features(struct vu_transport *v)
{
	uint64_t f = v->features, echo;
	int rc;

	f &= ~(EMULATED_FEATURES | F_MQ) | v->dev_features;
	f &= ~(CTRL_FEATURES & ~F_MQ);
	if (v->dev_features & VHOST_USER_F_PROTOCOL_FEATURES)
		f |= VHOST_USER_F_PROTOCOL_FEATURES;
	rc = vu_set_u64(v, VHOST_USER_SET_FEATURES, f, -1);
	if (!rc && !has_proto(v, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		rc = vu_get_u64(v, VHOST_USER_GET_FEATURES, &echo);
	if (rc)
		vnet_log(VNET_LOG_ERR, "vhost-user %s: backend refused features 0x%llx (offered "
		         "0x%llx)", v->path, (unsigned long long)f,
		         (unsigned long long)v->dev_features);
	return rc;
}

/* STATUS protocol feature: the backend's own word on FEATURES_OK (spec
 * 3.1.1: the driver re-reads the status to see that it stuck). */
static int features_ok(struct vu_transport *v, uint8_t status)
{
	uint64_t st;
	int rc = send_features(v);

	if (rc || !has_proto(v, VHOST_USER_PROTOCOL_F_STATUS))
		return rc;
	rc = send_status(v, status);
	if (!rc)
		rc = vu_get_u64(v, VHOST_USER_GET_STATUS, &st);
	if (rc)
		return rc;
	v->backend_status = (uint8_t)st;
	if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: backend status 0x%llx: it did not accept the features",
		         v->path, (unsigned long long)st);
		return -EPROTO;
	}
	return 0;
}

/* DRIVER_OK: the first pair's rings on (spec 5.1.6.5.5: one pair until
 * the driver says more; without MQ there is no other). */
static int driver_ok(struct vu_transport *v, uint8_t status)
{
	int rc = set_pairs(v, 1);

	if (!rc)
		rc = send_status(v, status);
	if (!rc && has_proto(v, VHOST_USER_PROTOCOL_F_STATUS)) {
		uint64_t st;

		rc = vu_get_u64(v, VHOST_USER_GET_STATUS, &st);
		if (!rc)
			v->backend_status = (uint8_t)st;
	}
	return rc;
}

static void vu_set_status(struct vnet_transport *t, uint8_t status)
{
	struct vu_transport *v = to_vu(t);

	if (status == 0) {
		vu_reset(t);
		return;
	}
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		if (features_ok(v, status))
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK; /* does not stick (spec 3.1.1) */
	}
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(v->status & VIRTIO_STATUS_DRIVER_OK) &&
	    driver_ok(v, status))
		status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	v->status = status;
}

static uint64_t vu_get_features(struct vnet_transport *t)
{
	struct vu_transport *v = to_vu(t);
	uint64_t f = v->dev_features & ~MASKED_FEATURES & ~CTRL_FEATURES;

	if (!has_proto(v, VHOST_USER_PROTOCOL_F_CONFIG))
		f |= EMULATED_FEATURES;
	if (ctrl_emulated(v))
		f |= F_CTRL_VQ | F_MQ;
	return f;
}

static void vu_set_features(struct vnet_transport *t, uint64_t features)
{
	struct vu_transport *v = to_vu(t);

	if (!(v->status & VIRTIO_STATUS_FEATURES_OK))
		v->features = features;
}

static uint32_t vu_config_generation(struct vnet_transport *t)
{
	return to_vu(t)->generation;
}

static void synth_config(const struct vu_transport *v, uint8_t *img)
{
	memset(img, 0, NET_CONFIG_LEN);
	memcpy(img + VIRTIO_NET_CFG_MAC, v->mac, 6);
	img[VIRTIO_NET_CFG_STATUS] = VIRTIO_NET_S_LINK_UP;
	img[VIRTIO_NET_CFG_MTU] = 1500 & 0xff;
	img[VIRTIO_NET_CFG_MTU + 1] = 1500 >> 8;
}

/* max_virtqueue_pairs is the transport's (it serves the control queue and
 * enables the rings), whatever a backend's config says. */
static void put_pairs(const struct vu_transport *v, uint32_t off, uint8_t *buf, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < 2; i++)
		if (VIRTIO_NET_CFG_MAX_PAIRS + i >= off && VIRTIO_NET_CFG_MAX_PAIRS + i - off < len)
			buf[VIRTIO_NET_CFG_MAX_PAIRS + i - off] = (uint8_t)(v->max_pairs >> (8 * i));
}

static void vu_read_config(struct vnet_transport *t, uint32_t off, void *buf, uint32_t len)
{
	struct vu_transport *v = to_vu(t);
	uint8_t img[VHOST_USER_MAX_CONFIG];
	uint32_t i;

	memset(buf, 0, len);
	if (off >= VHOST_USER_MAX_CONFIG || len > VHOST_USER_MAX_CONFIG - off)
		return;
	if (has_proto(v, VHOST_USER_PROTOCOL_F_CONFIG)) {
		struct vhost_user_msg m;
		int rc;

		msg_init(&m, VHOST_USER_GET_CONFIG, VHOST_USER_CONFIG_HDR + off + len);
		m.p.config.offset = 0;
		m.p.config.size = off + len;
		rc = vu_send(v, &m, NULL, 0);
		if (!rc)
			rc = vu_recv(v, VHOST_USER_GET_CONFIG, &m, sizeof(m.p.config));
		/* a zero-size payload is the backend's error (spec GET_CONFIG) */
		if (rc || m.hdr.size != VHOST_USER_CONFIG_HDR + off + len) {
			vnet_log(VNET_LOG_WARN, "vhost-user %s: GET_CONFIG %u+%u failed", v->path, off, len);
			return;
		}
		memcpy(buf, m.p.config.payload + off, len);
	} else {
		synth_config(v, img);
		for (i = 0; i < len; i++)
			((uint8_t *)buf)[i] = off + i < NET_CONFIG_LEN ? img[off + i] : 0;
	}
	put_pairs(v, off, buf, len);
}

static uint16_t vu_queue_max(struct vnet_transport *t, uint16_t q)
{
	struct vu_transport *v = to_vu(t);

	if (is_ctrl(v, q))
		return CTRL_QUEUE_MAX;
	return q < 2u * v->max_pairs ? v->queue_max : 0;
}

static int new_eventfd(int *fd)
{
	if (*fd >= 0)
		return 0;
	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* SET_VRING_ADDR: ring addresses are user (virtual) addresses, translated
 * from the iovas within the device's own memory (the table the backend
 * has). For a packed ring desc is the ring, avail the driver's and used
 * the device's event suppression area. */
static int send_ring_addr(struct vu_transport *v, uint16_t qi, const struct vnet_vq_addrs *a)
{
	struct vhost_user_msg m;
	void *desc = iova_va(v, a->desc, 1), *used = iova_va(v, a->used, 1), *avail = iova_va(v, a->avail, 1);

	if (!desc || !used || !avail) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: ring %u is not in the device's DMA memory", v->path,
		         (unsigned)qi);
		return -EFAULT;
	}
	msg_init(&m, VHOST_USER_SET_VRING_ADDR, sizeof(struct vhost_user_addr));
	m.p.addr.index = qi;
	m.p.addr.desc = (uint64_t)(uintptr_t)desc;
	m.p.addr.used = (uint64_t)(uintptr_t)used;
	m.p.addr.avail = (uint64_t)(uintptr_t)avail;
	return vu_request(v, &m, NULL, 0);
}

/* Ring set-up in the order QEMU and virtio_user use: the memory table
 * first (the backend translates ring addresses through it), the kick fd
 * last (a backend starts the ring when it gets one). A ring starts at
 * index 0; a packed one also with both wrap counters at 1 (spec 2.8.1),
 * which its base carries in bit 15. */
static int vu_queue_setup(struct vnet_transport *t, uint16_t qi, uint16_t size,
                          const struct vnet_vq_addrs *a)
{
	struct vu_transport *v = to_vu(t);
	struct vu_queue *q;
	uint32_t base = packed(v) ? VHOST_USER_VRING_PACKED_WRAP : 0;
	int rc;

	if (qi >= NQUEUES || size == 0 || (size & (size - 1)) || size > vu_queue_max(t, qi))
		return -EINVAL;
	if (v->dead)
		return -ECONNRESET;
	if (is_ctrl(v, qi))
		return ctrl_setup(v, qi, size, a);
	q = &v->q[qi];
	if ((rc = new_eventfd(&q->kick_fd)) || (rc = new_eventfd(&q->call_fd)))
		return rc;
	if (!v->table_sent && (rc = send_mem_table(v)))
		return rc;
	if ((rc = vu_set_state(v, VHOST_USER_SET_VRING_NUM, qi, size)) ||
	    (rc = vu_set_state(v, VHOST_USER_SET_VRING_BASE, qi, base)) ||
	    (rc = send_ring_addr(v, qi, a)) ||
	    (rc = vu_set_u64(v, VHOST_USER_SET_VRING_CALL, qi, q->call_fd)) ||
	    (rc = vu_set_u64(v, VHOST_USER_SET_VRING_KICK, qi, q->kick_fd))) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: setting up ring %u failed: %s", v->path,
		         (unsigned)qi, vnet_strerror(rc));
		return rc;
	}
	q->size = size;
	q->set_up = true;
	q->enabled = !(v->dev_features & VHOST_USER_F_PROTOCOL_FEATURES);
	return 0;
}

/* An eventfd write: the backend watches the fd. It cannot fail while the
 * fd is ours; a dead backend is seen by the liveness check instead. The
 * control queue is served here and now. */
static void vu_notify(struct vnet_transport *t, uint16_t qi)
{
	struct vu_transport *v = to_vu(t);
	uint64_t one = 1;

	if (vnet_unlikely(qi >= NQUEUES))
		return;
	if (vnet_unlikely(v->q[qi].local)) {
		ctrl_serve(v);
		return;
	}
	if (vnet_likely(v->q[qi].kick_fd >= 0) && write(v->q[qi].kick_fd, &one, sizeof(one)) < 0)
		return; /* EAGAIN: the counter is saturated, the backend has a kick pending */
}

/* ------------------------------------------------------------- server -- */

/* The unix socket address of @path, refused when too long for one. */
static int sock_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		vnet_log(VNET_LOG_ERR, "vhost-user: socket path '%s' is longer than %zu bytes", path,
		         sizeof(sa->sun_path) - 1);
		return -EINVAL;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Before binding @path: nothing there, or a stale socket (nobody listens:
 * a process that died left it), which is removed. A live socket and any
 * other file are refused and left as they are. */
static int server_clear_path(const char *path, const struct sockaddr_un *sa)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode)) {
		vnet_log(VNET_LOG_ERR, "vhost-user: %s exists and is not a socket; not replacing it", path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (rc == 0) {
		vnet_log(VNET_LOG_ERR, "vhost-user: someone listens on %s already", path);
		return -EADDRINUSE;
	}
	if (rc != -ECONNREFUSED) {
		vnet_log(VNET_LOG_ERR, "vhost-user: socket %s: %s", path, vnet_strerror(rc));
		return rc;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	vnet_log(VNET_LOG_INFO, "vhost-user: removed the stale socket %s", path);
	return 0;
}

/* Listen on v->path; what it bound is remembered (server_close). */
static int server_listen(struct vu_transport *v)
{
	struct sockaddr_un sa;
	struct stat sb;
	int rc;

	if ((rc = sock_addr(&sa, v->path)) || (rc = server_clear_path(v->path, &sa)))
		return rc;
	v->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->lfd < 0)
		return -errno;
	if (bind(v->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		vnet_log(VNET_LOG_ERR, "vhost-user: bind %s: %s", v->path, vnet_strerror(rc));
		return rc;
	}
	if (lstat(v->path, &sb) == 0) {
		v->own_path = true;
		v->path_dev = sb.st_dev;
		v->path_ino = sb.st_ino;
	}
	if (listen(v->lfd, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		vnet_log(VNET_LOG_ERR, "vhost-user: listen %s: %s", v->path, vnet_strerror(rc));
		return rc;
	}
	return 0;
}

/* Take the next backend that connected, if any (never waits: the
 * listening socket is non-blocking). 0, -EAGAIN (none yet) or -errno. */
static int vu_accept(struct vu_transport *v)
{
	int fd;

	do {
		fd = accept4(v->lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno == EWOULDBLOCK ? EAGAIN : errno;
		vnet_log(VNET_LOG_DEBUG, "vhost-user %s: accept: %s", v->path, vnet_strerror(-e));
		return -e;
	}
	v->sock = fd;
	return 0;
}

/* Open in server mode: wait for the first backend, at most
 * connect_timeout_ms. */
static int server_wait(struct vu_transport *v)
{
	uint64_t deadline = vnet_now_us() + (uint64_t)v->connect_timeout_ms * 1000u;
	int rc = -EAGAIN;

	vnet_log(VNET_LOG_INFO, "vhost-user %s: waiting for a backend to connect", v->path);
	while (rc == -EAGAIN) {
		struct pollfd pfd = {v->lfd, POLLIN, 0};
		uint64_t now = vnet_now_us();

		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
			return -errno;
		rc = vu_accept(v);
	}
	if (rc == -EAGAIN) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: no backend connected within %u ms", v->path,
		         v->connect_timeout_ms);
		return -ETIMEDOUT;
	}
	return rc;
}

/* Remove the socket, only if path is still the one vnet bound (never a
 * file that replaced it since), then stop listening: the bound socket
 * keeps its inode alive until then, so no other file can have its number. */
static void server_close(struct vu_transport *v)
{
	struct stat sb;

	if (v->own_path && lstat(v->path, &sb) == 0 && S_ISSOCK(sb.st_mode) &&
	    sb.st_dev == v->path_dev && sb.st_ino == v->path_ino)
		unlink(v->path);
	v->own_path = false;
	if (v->lfd >= 0)
		close(v->lfd);
	v->lfd = -1;
}

static void vu_close(struct vnet_transport *t)
{
	struct vu_transport *v = to_vu(t);
	unsigned i;

	if (!v)
		return;
	v->closing = true;
	vu_reset(t);
	for (i = 0; i < NQUEUES; i++) {
		if (v->q[i].kick_fd >= 0)
			close(v->q[i].kick_fd);
		if (v->q[i].call_fd >= 0)
			close(v->q[i].call_fd);
	}
	if (v->sock >= 0)
		close(v->sock);
	server_close(v);
	free(v);
}

static const struct vnet_transport_ops vu_ops = {
	.name = "vhost-user",
	.reset = vu_reset,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.config_generation = vu_config_generation,
	.read_config = vu_read_config,
	.queue_max = vu_queue_max,
	.queue_setup = vu_queue_setup,
	.notify = vu_notify,
	.close = vu_close,
	.set_dma_regions = vu_set_dma_regions,
};

/* --------------------------------------------------------------- open -- */

/* @quiet: a reconnect attempt, whose failures are expected while the
 * backend restarts. */
static int vu_connect(struct vu_transport *v, const char *path, bool quiet)
{
	struct sockaddr_un sa;
	int fd, rc;

	if ((rc = sock_addr(&sa, path)))
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (quiet)
			vnet_log(VNET_LOG_DEBUG, "vhost-user: reconnect %s: %s", path, vnet_strerror(-e));
		else if (e == ENOENT)
			vnet_log(VNET_LOG_ERR, "vhost-user: no socket at %s (is the backend running?)", path);
		else if (e == ECONNREFUSED)
			vnet_log(VNET_LOG_ERR, "vhost-user: nobody listens on %s (stale socket?)", path);
		else
			vnet_log(VNET_LOG_ERR, "vhost-user: connect %s: %s", path, vnet_strerror(-e));
		return -e;
	}
	v->sock = fd;
	return 0;
}

/* GET_QUEUE_NUM: the queue pairs the backend serves (DPDK and QEMU count
 * pairs for a net device), clamped to what the transport drives. */
static int get_queue_num(struct vu_transport *v)
{
	uint64_t n = 1;
	int rc;

	if (has_proto(v, VHOST_USER_PROTOCOL_F_MQ) && (rc = vu_get_u64(v, VHOST_USER_GET_QUEUE_NUM, &n)))
		return rc;
	if (n == 0) {
		vnet_log(VNET_LOG_ERR, "vhost-user %s: backend serves 0 queue pairs", v->path);
		return -EPROTO;
	}
	if (n > MAX_PAIRS)
		vnet_log(VNET_LOG_INFO, "vhost-user %s: backend serves %llu queue pairs; vnet drives %u",
		         v->path, (unsigned long long)n, MAX_PAIRS);
	v->max_pairs = (uint16_t)(n > MAX_PAIRS ? MAX_PAIRS : n);
	return 0;
}

static int vu_handshake(struct vu_transport *v)
{
	struct vhost_user_msg m;
	uint64_t proto = 0;
	int rc;

	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	if ((rc = vu_send(v, &m, NULL, 0)) ||
	    (rc = vu_get_u64(v, VHOST_USER_GET_FEATURES, &v->dev_features)))
		return rc;
	if (v->dev_features & VHOST_USER_F_PROTOCOL_FEATURES) {
		if ((rc = vu_get_u64(v, VHOST_USER_GET_PROTOCOL_FEATURES, &proto)))
			return rc;
		proto &= PROTOCOL_WANTED;
		/* not acked: REPLY_ACK is not in force before the backend knows it */
		if ((rc = vu_set_u64(v, VHOST_USER_SET_PROTOCOL_FEATURES, proto, -1)))
			return rc;
		v->proto = proto;
	}
	if ((rc = get_queue_num(v)))
		return rc;
	vnet_log(VNET_LOG_INFO, "vhost-user %s: features 0x%llx, protocol features 0x%llx, %u queue "
	         "pairs", v->path, (unsigned long long)v->dev_features, (unsigned long long)v->proto,
	         (unsigned)v->max_pairs);
	return 0;
}

int vnet_vhost_user_open(struct vnet_transport **t, const char *path,
                         const struct vnet_vhost_user_opts *o)
{
	static const uint8_t def_mac[6] = VNET_VHOST_USER_DEFAULT_MAC;
	struct vu_transport *v;
	unsigned i;
	int rc;

	if (!t || !path || !*path)
		return -EINVAL;
	*t = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->base.ops = &vu_ops;
	v->sock = -1;
	v->lfd = -1;
	for (i = 0; i < NQUEUES; i++)
		v->q[i].kick_fd = v->q[i].call_fd = -1;
	v->timeout_ms = o && o->timeout_ms ? o->timeout_ms : DEF_TIMEOUT_MS;
	v->queue_max = o && o->queue_max ? o->queue_max : DEF_QUEUE_MAX;
	memcpy(v->mac, o && o->mac_set ? o->mac : def_mac, 6);
	v->server = o && o->server;
	v->reconnect = (o && o->reconnect) || v->server; /* the listening socket is for that */
	v->connect_timeout_ms = o && o->connect_timeout_ms ? o->connect_timeout_ms : DEF_CONNECT_TIMEOUT_MS;
	v->backoff_max_ms = o && o->reconnect_max_ms ? o->reconnect_max_ms : DEF_BACKOFF_MAX_MS;
	if (v->backoff_max_ms < BACKOFF_MIN_MS)
		v->backoff_max_ms = BACKOFF_MIN_MS;
	v->backoff_ms = BACKOFF_MIN_MS;
	snprintf(v->path, sizeof(v->path), "%s", path);
	if (v->server) {
		rc = server_listen(v);
		if (!rc)
			rc = server_wait(v);
	} else {
		rc = vu_connect(v, path, false);
	}
	if (!rc)
		rc = vu_handshake(v);
	if (rc) {
		/* the errors of listening and waiting said what they were */
		if (v->sock >= 0 || (!v->server && rc != -ENOENT && rc != -ECONNREFUSED && rc != -EINVAL))
			vnet_log(VNET_LOG_ERR, "vhost-user %s: handshake failed: %s", path, vnet_strerror(rc));
		if (v->sock >= 0)
			close(v->sock);
		server_close(v);
		free(v);
		return rc;
	}
	*t = &v->base;
	return 0;
}
