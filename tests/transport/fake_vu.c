/* SPDX-License-Identifier: BSD-3-Clause */
/* The fake vhost-user backend (fake_vu.h), written from the protocol. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_vu.h"

#define P_REPLY_ACK (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)

static int recv_msg(int conn, struct vhost_user_msg *m, int *fds, unsigned *nfds)
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
	n = recvmsg(conn, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(m->hdr))
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (*nfds > VHOST_USER_MAX_REGIONS)
				*nfds = VHOST_USER_MAX_REGIONS;
			memcpy(fds, CMSG_DATA(c), sizeof(int) * *nfds);
		}
	}
	if (m->hdr.size > sizeof(m->p))
		return -1;
	if (m->hdr.size && recv(conn, &m->p, m->hdr.size, MSG_WAITALL) != (ssize_t)m->hdr.size)
		return -1;
	return 0;
}

/* Send the answer in @m, spoilt as @how says. */
static void reply(int conn, struct vhost_user_msg *m, uint32_t size, enum fvu_how how)
{
	size_t len;

	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	m->hdr.size = size;
	switch (how) {
	case FVU_WRONG_REQUEST: m->hdr.request++; break;
	case FVU_WRONG_SIZE: m->hdr.size = 4; break;
	case FVU_OVERSIZE: m->hdr.size = 16; break;
	case FVU_TOO_LARGE: m->hdr.size = (uint32_t)sizeof(m->p) + 1; break;
	case FVU_NOT_A_REPLY: m->hdr.flags = VHOST_USER_VERSION; break;
	case FVU_BAD_VERSION: m->hdr.flags = 2 | VHOST_USER_FLAG_REPLY; break;
	case FVU_NACK: m->p.u64 = 1; break;
	case FVU_CONFIG_ERROR: m->hdr.size = 0; break;
	default: break;
	}
	len = sizeof(m->hdr) + (how == FVU_TOO_LARGE ? 0 : m->hdr.size);
	if (how == FVU_HALF_REPLY)
		len = sizeof(m->hdr);
	if (send(conn, m, len, MSG_NOSIGNAL) < 0)
		return;
}

static void reply_u64(int conn, struct vhost_user_msg *m, uint64_t v, enum fvu_how how)
{
	m->p.u64 = v;
	reply(conn, m, 8, how);
}

/* GET_CONFIG: the bytes asked for, after the config header. */
static void reply_config(struct fvu *b, struct vhost_user_msg *m, enum fvu_how how)
{
	uint32_t off = m->p.config.offset, len = m->p.config.size;

	if (off > VHOST_USER_MAX_CONFIG || len > VHOST_USER_MAX_CONFIG - off)
		len = off = 0;
	memcpy(m->p.config.payload, b->config + off, len);
	reply(b->conn, m, VHOST_USER_CONFIG_HDR + len, how);
}

/* What to do with this message: the fault's, once it is due. */
static enum fvu_how fault_for(struct fvu *b, uint32_t request, unsigned *seen)
{
	if (b->fault.how == FVU_ANSWER || request != b->fault.request || (*seen)++ < b->fault.after)
		return FVU_ANSWER;
	pthread_mutex_lock(&b->lock);
	b->faults++;
	pthread_mutex_unlock(&b->lock);
	return b->fault.how;
}

static void mem_table(struct fvu *b, const struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	unsigned i, n = m->p.mem.nregions, ok = 0;

	if (n > VHOST_USER_MAX_REGIONS)
		n = VHOST_USER_MAX_REGIONS;
	pthread_mutex_lock(&b->lock);
	for (i = 0; i < n; i++) {
		memcpy(&b->reg[i], (const uint8_t *)m + sizeof(m->hdr) + offsetof(struct vhost_user_mem, r) +
		       i * sizeof(b->reg[i]), sizeof(b->reg[i]));
		/* the fd really holds the region: map it as a backend would */
		if (i < nfds) {
			size_t len = (size_t)(b->reg[i].size + b->reg[i].mmap_offset);
			void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fds[i], 0);

			if (p != MAP_FAILED) {
				ok++;
				munmap(p, len);
			}
		}
	}
	b->nreg = n;
	b->fds_ok = ok;
	b->tables++;
	pthread_mutex_unlock(&b->lock);
}

static void close_fds(const int *fds, unsigned nfds)
{
	unsigned i;

	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/* One message; -1 to hang up. */
static int handle(struct fvu *b, int *reply_ack, unsigned *seen)
{
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_REGIONS];
	unsigned nfds;
	enum fvu_how how;
	int need;

	memset(&m, 0, sizeof(m)); /* answers may send more than was received */
	if (recv_msg(b->conn, &m, fds, &nfds))
		return -1;
	need = (m.hdr.flags & VHOST_USER_FLAG_NEED_REPLY) && *reply_ack;
	pthread_mutex_lock(&b->lock);
	b->msgs++;
	pthread_mutex_unlock(&b->lock);
	how = fault_for(b, m.hdr.request, seen);
	if (how == FVU_SILENT) {
		close_fds(fds, nfds);
		return 0;
	}
	if (how == FVU_HANG_UP) {
		close_fds(fds, nfds);
		shutdown(b->conn, SHUT_RDWR);
		return -1;
	}
	switch (m.hdr.request) {
	case VHOST_USER_GET_FEATURES:
		reply_u64(b->conn, &m, b->features | VHOST_USER_F_PROTOCOL_FEATURES, how);
		break;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(b->conn, &m, b->proto, how);
		break;
	case VHOST_USER_GET_CONFIG:
		reply_config(b, &m, how);
		break;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		*reply_ack = (m.p.u64 & P_REPLY_ACK) != 0;
		break;
	case VHOST_USER_SET_MEM_TABLE:
		mem_table(b, &m, fds, nfds);
		break;
	case VHOST_USER_SET_VRING_ADDR:
		if (m.p.addr.index < 2) {
			pthread_mutex_lock(&b->lock);
			b->ring[m.p.addr.index][0] = m.p.addr.desc;
			b->ring[m.p.addr.index][1] = m.p.addr.used;
			b->ring[m.p.addr.index][2] = m.p.addr.avail;
			b->ring_set |= 1u << m.p.addr.index;
			pthread_mutex_unlock(&b->lock);
		}
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		if (m.p.state.index < 32) {
			pthread_mutex_lock(&b->lock);
			if (m.p.state.num)
				b->enabled |= 1u << m.p.state.index;
			else
				b->enabled &= ~(1u << m.p.state.index);
			pthread_mutex_unlock(&b->lock);
		}
		break;
	case VHOST_USER_SET_VRING_BASE:
		if (m.p.state.index < 4) {
			pthread_mutex_lock(&b->lock);
			b->base[m.p.state.index] = m.p.state.num;
			pthread_mutex_unlock(&b->lock);
		}
		break;
	case VHOST_USER_GET_QUEUE_NUM:
		reply_u64(b->conn, &m, b->queue_num, how);
		break;
	case VHOST_USER_SET_STATUS:
		pthread_mutex_lock(&b->lock);
		b->status = (uint8_t)m.p.u64;
		b->statuses++;
		pthread_mutex_unlock(&b->lock);
		break;
	case VHOST_USER_GET_STATUS:
		reply_u64(b->conn, &m, b->refuse_features_ok ? b->status & ~8u : b->status, how);
		break;
	case VHOST_USER_GET_VRING_BASE:
		pthread_mutex_lock(&b->lock);
		b->get_bases++;
		pthread_mutex_unlock(&b->lock);
		m.p.state.num = b->base_reply;
		reply(b->conn, &m, sizeof(struct vhost_user_state), how);
		break;
	default:
		break;
	}
	close_fds(fds, nfds);
	if (need && m.hdr.request != VHOST_USER_GET_FEATURES &&
	    m.hdr.request != VHOST_USER_GET_PROTOCOL_FEATURES && m.hdr.request != VHOST_USER_GET_CONFIG &&
	    m.hdr.request != VHOST_USER_GET_VRING_BASE && m.hdr.request != VHOST_USER_GET_QUEUE_NUM &&
	    m.hdr.request != VHOST_USER_GET_STATUS)
		reply_u64(b->conn, &m, 0, how);
	if (how == FVU_HALF_REPLY) {
		shutdown(b->conn, SHUT_RDWR);
		return -1;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct fvu *b = arg;
	struct pollfd p = {b->lfd, POLLIN, 0};
	int reply_ack = 0;
	unsigned seen = 0;

	if (poll(&p, 1, 10000) != 1)
		return NULL;
	b->conn = accept(b->lfd, NULL, NULL);
	if (b->conn < 0)
		return NULL;
	while (handle(b, &reply_ack, &seen) == 0)
		;
	return NULL;
}

int fvu_start(struct fvu *b, const char *path, uint64_t features)
{
	return fvu_start_faulty(b, path, features, P_REPLY_ACK, NULL);
}

int fvu_start_faulty(struct fvu *b, const char *path, uint64_t features, uint64_t proto,
                     const struct fvu_fault *f)
{
	fvu_prepare(b, path, features, proto, f);
	return fvu_listen(b);
}

void fvu_prepare(struct fvu *b, const char *path, uint64_t features, uint64_t proto,
                 const struct fvu_fault *f)
{
	memset(b, 0, sizeof(*b));
	b->conn = -1;
	b->features = features;
	b->proto = proto;
	if (f)
		b->fault = *f;
	memcpy(b->config, (const uint8_t[])FVU_MAC, 6);
	b->config[6] = 1; /* status: VIRTIO_NET_S_LINK_UP */
	b->queue_num = 1;
	pthread_mutex_init(&b->lock, NULL);
	snprintf(b->path, sizeof(b->path), "%s", path);
}

int fvu_listen(struct fvu *b)
{
	struct sockaddr_un sa;
	const char *path = b->path;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	b->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->lfd < 0)
		return -1;
	if (bind(b->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(b->lfd, 1) ||
	    pthread_create(&b->th, NULL, serve, b)) {
		close(b->lfd);
		b->lfd = -1;
		return -1;
	}
	return 0;
}

void fvu_join(struct fvu *b)
{
	if (!b->joined)
		pthread_join(b->th, NULL);
	b->joined = 1;
}

void fvu_stop(struct fvu *b)
{
	if (b->lfd < 0)
		return; /* stopped already */
	fvu_join(b);
	if (b->conn >= 0)
		close(b->conn);
	close(b->lfd);
	b->lfd = -1;
	unlink(b->path);
	pthread_mutex_destroy(&b->lock);
}
