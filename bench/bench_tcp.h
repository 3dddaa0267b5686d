/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP throughput through lwIP between two vnet interfaces joined by the
 * device model's wire, in one process (vnet-bench --mode=tcp).
 */
#ifndef VNET_BENCH_TCP_H
#define VNET_BENCH_TCP_H

#include <stdbool.h>
#include <stdint.h>

/** What to run. Zero fields take the defaults shown. */
struct vnet_bench_tcp_opts {
	uint64_t bytes;    /**< bytes to transfer; 0: stream for @c duration */
	double duration;   /**< seconds: the run's length when @c bytes is 0, else a limit (2 / 60) */
	bool rx_copy;      /**< copy every received frame instead of zero-copy RX */
	bool verify;       /**< check every received byte against the pattern */
	uint16_t ring;     /**< RX and TX ring size per device (256) */
	uint32_t pool;     /**< buffers per device pool (2048) */
	uint32_t chunk;    /**< bytes offered per vnet_tcp_send call (65536) */
	bool offload;      /**< devices offer and the interfaces use CSUM, GUEST_CSUM (DATA_VALID),
	                        HOST_TSO4, GUEST_TSO4 and MRG_RXBUF, with a jumbo TX pool */
};

/** What came out. */
struct vnet_bench_tcp_result {
	uint64_t bytes;        /**< bytes received (and checked, with verify) */
	double seconds;        /**< from connected to the last byte */
	double mbytes_per_s;   /**< bytes / seconds / 1e6 */
	double ns_per_segment; /**< wall time per full-sized segment, both ends */
	uint64_t segments;     /**< frames the receiver took in */
	uint64_t rx_zero_copy; /**< receiver frames handed to lwIP in place */
	uint64_t rx_copied;    /**< receiver frames copied */
	uint64_t tx_ring_full; /**< sender frames refused (batch and ring full) */
	uint64_t bad_bytes;    /**< pattern mismatches (verify) */
};

/** Run one transfer. 0 or a negative errno (-ETIMEDOUT when it stalls). */
int vnet_bench_tcp(const struct vnet_bench_tcp_opts *o, struct vnet_bench_tcp_result *r);

/**
 * vnet-bench --mode=tcp: zero-copy RX, copy RX, then zero-copy RX with the
 * offloads, one result row each.
 * @p packets > 0 transfers that many full segments (fixed work, for
 * callgrind); otherwise each run streams for @p duration seconds.
 * @return the process exit code.
 */
int vnet_bench_tcp_main(double duration, uint64_t packets, int quiet);

#endif
