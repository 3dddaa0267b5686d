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

static void reply(int conn, struct vhost_user_msg *m, uint32_t size)
{
	m->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	m->hdr.size = size;
	if (send(conn, m, sizeof(m->hdr) + size, MSG_NOSIGNAL) < 0)
		return;
}

static void reply_u64(int conn, struct vhost_user_msg *m, uint64_t v)
{
	m->p.u64 = v;
	reply(conn, m, 8);
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

/* One message; -1 to hang up. */
static int handle(struct fvu *b, int *reply_ack)
{
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_REGIONS];
	unsigned nfds, i;
	int need;

	if (recv_msg(b->conn, &m, fds, &nfds))
		return -1;
	need = (m.hdr.flags & VHOST_USER_FLAG_NEED_REPLY) && *reply_ack;
	pthread_mutex_lock(&b->lock);
	b->msgs++;
	pthread_mutex_unlock(&b->lock);
	switch (m.hdr.request) {
	case VHOST_USER_GET_FEATURES:
		reply_u64(b->conn, &m, b->features | VHOST_USER_F_PROTOCOL_FEATURES);
		return 0;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(b->conn, &m, P_REPLY_ACK);
		return 0;
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
	case VHOST_USER_GET_VRING_BASE:
		m.p.state.num = 0;
		reply(b->conn, &m, sizeof(struct vhost_user_state));
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return 0;
	default:
		break;
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (need)
		reply_u64(b->conn, &m, 0);
	return 0;
}

static void *serve(void *arg)
{
	struct fvu *b = arg;
	struct pollfd p = {b->lfd, POLLIN, 0};
	int reply_ack = 0;

	if (poll(&p, 1, 10000) != 1)
		return NULL;
	b->conn = accept(b->lfd, NULL, NULL);
	if (b->conn < 0)
		return NULL;
	while (handle(b, &reply_ack) == 0)
		;
	return NULL;
}

int fvu_start(struct fvu *b, const char *path, uint64_t features)
{
	struct sockaddr_un sa;

	memset(b, 0, sizeof(*b));
	b->conn = -1;
	b->features = features;
	pthread_mutex_init(&b->lock, NULL);
	snprintf(b->path, sizeof(b->path), "%s", path);
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
		return -1;
	}
	return 0;
}

void fvu_stop(struct fvu *b)
{
	pthread_join(b->th, NULL);
	if (b->conn >= 0)
		close(b->conn);
	close(b->lfd);
	unlink(b->path);
	pthread_mutex_destroy(&b->lock);
}
