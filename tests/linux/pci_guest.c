/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs INSIDE the Linux guest that tests/linux/build-initramfs.sh builds (never on the host):
 *   pci_guest refuse BDF   the device at BDF is bound to a kernel driver:
 *                          opening it must fail with -EBUSY naming the
 *                          driver; no address and no opt-in: -EPERM
 *   pci_guest traffic      VNET_PCI_AUTO=1: open the unbound virtio-net
 *                          device, send frames to the host's tap, check
 *                          the echoes (MACs swapped by tap_echo.py)
 * Prints "PASS <what>" or "FAIL <why>"; exit 0 on success. Bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/linux.h>
#include <vnet/transports.h>
#include <vnet/vnet.h>

#define FRAMES 2000
#define ETHERTYPE 0x88b5
#define SECS 40

static char logbuf[4096];

static void sink(enum vnet_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logbuf);
	(void)arg;
	printf("  vnet[%d]: %s\n", (int)level, msg);
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static uint8_t pat(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 11 + i * 3);
}

static int refuse(const char *bdf)
{
	struct vnet_pciaccess_opts o = {0};
	struct vnet_transport *t = NULL;
	int rc;

	o.bdf = bdf;
	rc = vnet_pciaccess_open(&t, &o);
	if (rc != -EBUSY || !strstr(logbuf, "virtio-pci") || !strstr(logbuf, "unbind")) {
		vnet_transport_close(t);
		printf("FAIL refuse-bound: rc %d\n", rc);
		return 1;
	}
	printf("PASS refuse-bound\n");
	unsetenv("VNET_PCI_AUTO");
	rc = vnet_pciaccess_open(&t, NULL);
	if (rc != -EPERM) {
		printf("FAIL refuse-unnamed: rc %d\n", rc);
		return 1;
	}
	printf("PASS refuse-unnamed\n");
	return 0;
}

static int traffic(void)
{
	struct vnet_pool_conf pc = {.count = 768};
	struct vnet_dev_conf dc = {0};
	struct vnet_transport *t = NULL;
	struct vnet_pool *pool = NULL;
	struct vnet_dev *dev = NULL;
	struct vnet_net_config cfg;
	uint64_t sent = 0, got = 0, bad = 0, start;
	int rc;

	rc = vnet_pciaccess_open(&t, NULL);
	if (rc) {
		printf("FAIL open: %s\n", vnet_strerror(rc));
		return 1;
	}
	if ((rc = vnet_pool_create(&pool, &pc)) ||
	    (dc.pool = pool, dc.rx_ring_size = dc.tx_ring_size = 256,
	     rc = vnet_dev_open(&dev, t, &dc)) || (rc = vnet_dev_config(dev, &cfg))) {
		printf("FAIL set-up: %s\n", vnet_strerror(rc));
		goto out;
	}
	printf("mac %02x:%02x:%02x:%02x:%02x:%02x link %s\n", cfg.mac[0], cfg.mac[1], cfg.mac[2],
	       cfg.mac[3], cfg.mac[4], cfg.mac[5], cfg.link_up ? "up" : "down");
	start = vnet_now_us();
	while (got < FRAMES && vnet_now_us() - start < SECS * 1000000ull) {
		struct vnet_buf *b[32];
		uint16_t k, i;

		/* keep at most 64 frames unanswered: the tap is slow under TCG */
		if (sent - got - bad < 64 && sent < FRAMES + 256 && vnet_pool_alloc_bulk(pool, b, 8) == 0) {
			for (i = 0; i < 8; i++) {
				uint64_t seq = sent + i;
				uint32_t len = 60 + (uint32_t)(seq % 1400), j;
				memset(b[i]->data, 0xff, 6); /* broadcast: the tap takes it */
				memcpy(b[i]->data + 6, cfg.mac, 6);
				b[i]->data[12] = ETHERTYPE >> 8;
				b[i]->data[13] = ETHERTYPE & 0xff;
				memcpy(b[i]->data + 14, &seq, 8);
				for (j = 22; j < len; j++)
					b[i]->data[j] = pat(seq, j);
				b[i]->len = len;
			}
			k = vnet_tx_burst(dev, 0, b, 8);
			vnet_pool_free_bulk(b + k, (uint32_t)(8 - k));
			sent += k;
		} else {
			vnet_tx_reclaim(dev, 0);
		}
		k = vnet_rx_burst(dev, 0, b, 32);
		for (i = 0; i < k; i++) {
			const uint8_t *f = b[i]->data;
			uint64_t seq;
			uint32_t j, ok = 1;

			if (b[i]->len < 22 || f[12] != (ETHERTYPE >> 8) || f[13] != (ETHERTYPE & 0xff))
				continue; /* the host's own chatter (IPv6 RS and such) */
			memcpy(&seq, f + 14, 8);
			ok = memcmp(f, cfg.mac, 6) == 0 && b[i]->len == 60 + seq % 1400;
			for (j = 22; ok && j < b[i]->len; j++)
				ok = f[j] == pat(seq, j);
			if (ok)
				got++;
			else
				bad++;
		}
		vnet_pool_free_bulk(b, k);
		vnet_rx_refill(dev, 0);
	}
	printf("sent %llu echoed %llu bad %llu in %.1f s\n", (unsigned long long)sent,
	       (unsigned long long)got, (unsigned long long)bad,
	       (double)(vnet_now_us() - start) / 1e6);
	rc = got >= FRAMES && bad == 0 ? 0 : -EIO;
	printf(rc ? "FAIL traffic\n" : "PASS traffic\n");
out:
	vnet_dev_close(dev);
	vnet_transport_close(t);
	if (pool && vnet_pool_destroy(pool) != 0) {
		printf("FAIL pool leak\n");
		rc = -EIO;
	}
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	vnet_set_log(sink, NULL, VNET_LOG_INFO);
	if (argc == 3 && !strcmp(argv[1], "refuse"))
		return refuse(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "traffic"))
		return traffic();
	fprintf(stderr, "usage: pci_guest refuse BDF | traffic\n");
	return 2;
}
