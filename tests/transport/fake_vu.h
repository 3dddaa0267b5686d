/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake vhost-user backend for transport tests: a thread that answers
 * the control messages a frontend sends (QEMU docs/interop/vhost-user.rst)
 * and records what it was given - the memory table's regions and the ring
 * addresses - without serving any ring. For checking which memory a
 * frontend shares (tests/transport/test_vu_regions.c) and how it copes
 * with a backend that misbehaves on one request (test_vu_faults.c); the
 * data path is tests/linux/vu_backend.c's.
 */
#ifndef VNET_TEST_FAKE_VU_H
#define VNET_TEST_FAKE_VU_H

#include <pthread.h>
#include <stdint.h>

#include "transport/vhost_user.h"

/* How the backend answers the request a fault names. */
enum fvu_how {
	FVU_ANSWER,        /* as the protocol says */
	FVU_SILENT,        /* not at all (the frontend times out) */
	FVU_WRONG_REQUEST, /* with the next request's id */
	FVU_WRONG_SIZE,    /* a u64 answer of 4 bytes */
	FVU_OVERSIZE,      /* a u64 answer of 16 bytes */
	FVU_TOO_LARGE,     /* a header announcing more than any message holds */
	FVU_NOT_A_REPLY,   /* the reply flag missing */
	FVU_BAD_VERSION,   /* version 2 in the flags */
	FVU_NACK,          /* a non-zero REPLY_ACK */
	FVU_CONFIG_ERROR,  /* GET_CONFIG: the zero-size error answer */
	FVU_HANG_UP,       /* closes the connection instead */
	FVU_HALF_REPLY,    /* the header only, then hangs up */
};

/* The MAC in the backend's device config (GET_CONFIG). */
#define FVU_MAC {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}

struct fvu_fault {
	uint32_t request;  /* the request concerned */
	unsigned after;    /* answered normally this many times first */
	enum fvu_how how;
};

struct fvu {
	char path[108];
	int lfd, conn;
	pthread_t th;
	uint64_t features;       /* virtio features offered (VHOST_USER_F_PROTOCOL_FEATURES added) */
	uint64_t proto;          /* protocol features offered */
	struct fvu_fault fault;
	uint8_t config[VHOST_USER_MAX_CONFIG]; /* device config (GET_CONFIG) */
	int joined;
	pthread_mutex_t lock;    /* guards what follows */
	struct vhost_user_region reg[VHOST_USER_MAX_REGIONS];
	unsigned nreg;           /* regions of the last memory table */
	unsigned tables;         /* SET_MEM_TABLE messages */
	unsigned fds_ok;         /* regions whose fd could be mapped at its offset and size */
	uint64_t ring[2][3];     /* SET_VRING_ADDR: desc, used, avail (user addresses) per ring */
	unsigned ring_set;       /* bit per ring */
	unsigned msgs;
	unsigned faults;         /* times the fault was applied */
	unsigned enabled;        /* bit per ring: last SET_VRING_ENABLE was 1 */
	unsigned get_bases;      /* GET_VRING_BASE messages */
	uint32_t base[4];        /* SET_VRING_BASE: num per ring */
	uint8_t status;          /* SET_STATUS: the last one */
	unsigned statuses;       /* SET_STATUS messages */
	/* set before the start: */
	uint64_t queue_num;      /* GET_QUEUE_NUM's answer */
	uint32_t base_reply;     /* GET_VRING_BASE's num */
	int refuse_features_ok;  /* GET_STATUS: FEATURES_OK never sticks */
};

/* Listen on @path and serve one connection in a thread, offering
 * REPLY_ACK. 0 or -1. (The fields "set before the start" take their
 * defaults - one queue pair, zeros - unless set between fvu_prepare and
 * fvu_listen.) */
int fvu_start(struct fvu *b, const char *path, uint64_t features);
/* The same with protocol features @proto and fault @f (NULL: none). */
int fvu_start_faulty(struct fvu *b, const char *path, uint64_t features, uint64_t proto,
                     const struct fvu_fault *f);
/* fvu_start_faulty in two steps, to set fields in between. */
void fvu_prepare(struct fvu *b, const char *path, uint64_t features, uint64_t proto,
                 const struct fvu_fault *f);
int fvu_listen(struct fvu *b);
/* Wait for the thread (it ends when either side hangs up). */
void fvu_join(struct fvu *b);
/* fvu_join(), then clean up. */
void fvu_stop(struct fvu *b);

#endif
