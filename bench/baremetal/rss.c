/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnet-bench-bm's receive-side scaling and hash report (rss=, rss_queue=,
 * hash=): the configuration sent to the device, printed for the peer
 * (which computes the same Toeplitz hash to tell where each flow must
 * land), and, in rxonly, what arrived where: per UDP/IPv4 flow, the queue
 * pair its first frame came on, how many came on another, and the hash
 * the device reported.
 */
#include <stdio.h>
#include <string.h>

#include "bm.h"

#define BM_FLOWS 64
#define RSS_TYPES                                                                                  \
	(VNET_HASH_TYPE_IPV4 | VNET_HASH_TYPE_TCPV4 | VNET_HASH_TYPE_UDPV4 | VNET_HASH_TYPE_IPV6 | \
	 VNET_HASH_TYPE_TCPV6 | VNET_HASH_TYPE_UDPV6)

struct flow {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint16_t queue;       /* the pair its first frame came on */
	uint16_t report;      /* the last hash report */
	uint32_t hash;        /* the last hash value reported */
	uint64_t frames, moved, hashed, hash_changed;
};

static struct flow flows[BM_FLOWS];
static uint32_t nflows;
static uint64_t unparsed;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void print_ip(const char *key, uint32_t ip)
{
	printf(",\"%s\":\"%u.%u.%u.%u\"", key, (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 255),
	       (unsigned)(ip >> 8 & 255), (unsigned)(ip & 255));
}

int bm_rss_setup(struct bm_rig *r, const struct bm_opts *o)
{
	static uint16_t table[VNET_RSS_TABLE_MAX];
	struct vnet_rss_conf rc = {0};
	struct vnet_net_config cfg;
	const uint8_t *key = vnet_rss_default_key();
	uint32_t types;
	int err;

	if (!o->rss && !o->hash)
		return 0;
	vnet_dev_config(r->dev, &cfg);
	types = cfg.hash_types & RSS_TYPES;
	if (o->rss) {
		rc.hash_types = types;
		if (o->rss_queue >= 0) {
			/* every entry, and frames without a hash, to one pair */
			rc.table_len = cfg.rss_max_table_len < VNET_RSS_TABLE_MAX ? cfg.rss_max_table_len : VNET_RSS_TABLE_MAX;
			for (uint32_t i = 0; i < rc.table_len; i++)
				table[i] = (uint16_t)o->rss_queue;
			rc.table = table;
			rc.unclassified = (uint16_t)o->rss_queue;
		}
		err = vnet_dev_set_rss(r->dev, &rc);
	} else {
		err = vnet_dev_set_hash(r->dev, types, NULL, 0);
	}
	if (err) {
		printf("vnet-bench-bm: %s: %s (features 0x%llx)\n", o->rss ? "RSS" : "hash report", vnet_strerror(err),
		       (unsigned long long)cfg.features);
		return err;
	}
	printf("rss: mode=%s hash_report=%u types=0x%x key=", o->rss ? "rss" : "hash", (unsigned)o->hash,
	       (unsigned)types);
	for (uint32_t i = 0; i < VNET_RSS_KEY_LEN; i++)
		printf("%02x", key[i]);
	if (!o->rss)
		printf("\n");
	else if (o->rss_queue < 0)
		printf(" unclassified=0 table_len=%u table=rr\n",
		       (unsigned)(cfg.rss_max_table_len < VNET_RSS_TABLE_MAX ? cfg.rss_max_table_len : VNET_RSS_TABLE_MAX));
	else
		printf(" unclassified=%d table_len=%u table=all:%d\n", o->rss_queue, (unsigned)rc.table_len, o->rss_queue);
	return 0;
}

static struct flow *flow_of(const uint8_t *ip, uint16_t sport, uint16_t dport)
{
	uint32_t src = be32(ip + 12), dst = be32(ip + 16), i;

	for (i = 0; i < nflows; i++)
		if (flows[i].src == src && flows[i].dst == dst && flows[i].sport == sport && flows[i].dport == dport)
			return &flows[i];
	if (nflows == BM_FLOWS)
		return NULL;
	flows[nflows] = (struct flow){.src = src, .dst = dst, .sport = sport, .dport = dport, .queue = UINT16_MAX};
	return &flows[nflows++];
}

void bm_rss_note(void *arg, uint16_t q, struct vnet_buf *const *b, uint16_t n)
{
	(void)arg;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *f = b[i]->data, *ip = f + 14;
		struct flow *fl;

		/* UDP over IPv4 without options, not a fragment */
		if (b[i]->len < 42 || f[12] != 0x08 || f[13] != 0 || ip[0] != 0x45 || ip[9] != 17 ||
		    ((ip[6] & 0x3f) | ip[7]) || !(fl = flow_of(ip, (uint16_t)(ip[20] << 8 | ip[21]),
		                                                   (uint16_t)(ip[22] << 8 | ip[23])))) {
			unparsed++;
			continue;
		}
		if (fl->queue == UINT16_MAX)
			fl->queue = q;
		else if (fl->queue != q)
			fl->moved++;
		fl->frames++;
		if (b[i]->hash_report != VNET_HASH_REPORT_NONE) {
			if (fl->hashed && b[i]->hash_value != fl->hash)
				fl->hash_changed++;
			fl->hashed++;
			fl->hash = b[i]->hash_value;
			fl->report = b[i]->hash_report;
		}
	}
}

void bm_rss_report(const struct bm_rig *r, const struct bm_opts *o)
{
	uint16_t q;

	if (!o->rss && !o->hash)
		return;
	for (uint32_t i = 0; i < nflows; i++) {
		const struct flow *fl = &flows[i];

		printf("{\"rss_flow\":%u", (unsigned)i);
		print_ip("src", fl->src);
		print_ip("dst", fl->dst);
		printf(",\"sport\":%u,\"dport\":%u,\"queue\":%u,\"frames\":%llu,\"moved\":%llu,\"hashed\":%llu,"
		       "\"hash\":%lu,\"report\":%u,\"hash_changed\":%llu}\n",
		       (unsigned)fl->sport, (unsigned)fl->dport, (unsigned)fl->queue, (unsigned long long)fl->frames,
		       (unsigned long long)fl->moved, (unsigned long long)fl->hashed, (unsigned long)fl->hash,
		       (unsigned)fl->report, (unsigned long long)fl->hash_changed);
	}
	printf("{\"rss\":\"%s\",\"flows\":%u,\"other_frames\":%llu,\"rx_hashed\":[", o->rss ? "rss" : "hash",
	       (unsigned)nflows, (unsigned long long)unparsed);
	for (q = 0; q < o->queues; q++) {
		struct vnet_queue_stats s;

		vnet_queue_stats(r->dev, q, true, &s);
		printf("%s%llu", q ? "," : "", (unsigned long long)s.rx_hashed);
	}
	printf("],\"rx_bad_hash\":[");
	for (q = 0; q < o->queues; q++) {
		struct vnet_queue_stats s;

		vnet_queue_stats(r->dev, q, true, &s);
		printf("%s%llu", q ? "," : "", (unsigned long long)s.rx_bad_hash);
	}
	printf("]}\n");
}
