/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake vhost-user backend for transport tests: a thread that answers
 * the control messages a frontend sends (QEMU docs/interop/vhost-user.rst)
 * and records what it was given - the memory table's regions and the ring
 * addresses - without serving any ring. For checking which memory a
 * frontend shares (tests/transport/test_vu_regions.c); the data path is
 * tests/linux/vu_backend.c's.
 */
#ifndef VNET_TEST_FAKE_VU_H
#define VNET_TEST_FAKE_VU_H

#include <pthread.h>
#include <stdint.h>

#include "transport/vhost_user.h"

struct fvu {
	char path[108];
	int lfd, conn;
	pthread_t th;
	uint64_t features;       /* virtio features offered (VHOST_USER_F_PROTOCOL_FEATURES added) */
	pthread_mutex_t lock;    /* guards what follows */
	struct vhost_user_region reg[VHOST_USER_MAX_REGIONS];
	unsigned nreg;           /* regions of the last memory table */
	unsigned tables;         /* SET_MEM_TABLE messages */
	unsigned fds_ok;         /* regions whose fd could be mapped at its offset and size */
	uint64_t ring[2][3];     /* SET_VRING_ADDR: desc, used, avail (user addresses) per ring */
	unsigned ring_set;       /* bit per ring */
	unsigned msgs;
};

/* Listen on @path and serve one connection in a thread. 0 or -1. */
int fvu_start(struct fvu *b, const char *path, uint64_t features);
/* Wait for the thread (it ends when the frontend hangs up), then clean up. */
void fvu_stop(struct fvu *b);

#endif
