/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An out-of-tree program built against an installed vnet (tests/install):
 * a device on the in-process model with the loopback backend, a few frames
 * of different sizes sent and received back, their content checked.
 * Prints "OK ..." and exits 0, or says what went wrong and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include <vnet/model.h>
#include <vnet/version.h>
#include <vnet/vnet.h>

#define NFRAMES 8

static int fail(const char *what, int rc)
{
	fprintf(stderr, "sample: %s: %s\n", what, vnet_strerror(rc));
	return 1;
}

static void fill(struct vnet_buf *b, unsigned i)
{
	static const uint8_t eth[14] = {0x52, 0x54, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x88, 0xb5};
	uint32_t k;

	b->len = 60 + i * 180; /* 60 .. 1320 bytes */
	memcpy(b->data, eth, sizeof(eth));
	for (k = sizeof(eth); k < b->len; k++)
		b->data[k] = (uint8_t)(i * 31 + k);
}

static int check(const struct vnet_buf *b, unsigned i)
{
	struct vnet_buf want;
	uint8_t frame[1518];

	want.data = frame;
	fill(&want, i);
	return b->len == want.len && memcmp(b->data, frame, want.len) == 0;
}

int main(void)
{
	struct vnet_model_conf mc = {0};
	struct vnet_pool_conf pc = {0};
	struct vnet_dev_conf dc = {0};
	struct vnet_buf *tx[NFRAMES], *rx[NFRAMES];
	struct vnet_model *m = NULL;
	struct vnet_pool *pool = NULL;
	struct vnet_dev *dev = NULL;
	unsigned got = 0, i, polls;
	int rc, bad = 0;

	if (strcmp(vnet_version(), VNET_VERSION_STRING) != 0) {
		fprintf(stderr, "sample: library %s, headers %s\n", vnet_version(), VNET_VERSION_STRING);
		return 1;
	}
	mc.backend = VNET_MODEL_LOOPBACK;
	pc.count = 512;
	if ((rc = vnet_model_create(&m, &mc)))
		return fail("vnet_model_create", rc);
	if ((rc = vnet_pool_create(&pool, &pc))) {
		vnet_model_destroy(m);
		return fail("vnet_pool_create", rc);
	}
	dc.pool = pool;
	if ((rc = vnet_dev_open(&dev, vnet_model_transport(m), &dc))) {
		vnet_pool_destroy(pool);
		vnet_model_destroy(m);
		return fail("vnet_dev_open", rc);
	}
	if ((rc = vnet_pool_alloc_bulk(pool, tx, NFRAMES)) == 0) {
		for (i = 0; i < NFRAMES; i++)
			fill(tx[i], i);
		if (vnet_tx_burst(dev, 0, tx, NFRAMES) != NFRAMES) {
			fprintf(stderr, "sample: TX ring refused frames\n");
			bad = 1;
		}
	} else {
		bad = fail("vnet_pool_alloc_bulk", rc);
	}
	/* bounded: the loopback device answers on its first poll */
	for (polls = 0; !bad && got < NFRAMES && polls < 1000; polls++) {
		uint16_t n;
		vnet_model_poll(m);
		n = vnet_rx_burst(dev, 0, rx, (uint16_t)(NFRAMES - got));
		for (i = 0; i < n; i++, got++) {
			if (!check(rx[i], got)) {
				fprintf(stderr, "sample: frame %u: wrong length or content\n", got);
				bad = 1;
			}
		}
		vnet_pool_free_bulk(rx, n);
		vnet_rx_refill(dev, 0);
	}
	if (!bad && got != NFRAMES) {
		fprintf(stderr, "sample: %u of %d frames came back\n", got, NFRAMES);
		bad = 1;
	}
	for (i = 0; i < 8; i++) { /* the device gives back the sent buffers */
		vnet_model_poll(m);
		vnet_tx_reclaim(dev, 0);
	}
	vnet_dev_close(dev);
	if ((rc = vnet_pool_destroy(pool)))
		bad = fail("vnet_pool_destroy", rc);
	vnet_model_destroy(m);
	if (bad)
		return 1;
	printf("OK vnet %s: %d frames looped back intact\n", vnet_version(), NFRAMES);
	return 0;
}
