/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file linux.h
 * @brief Transports for a Linux process: a vhost-user frontend (the role of
 * DPDK's virtio_user) and a virtio-net PCI device reached through
 * libpciaccess.
 *
 * Both return a transport for vnet_dev_open(); close it with
 * vnet_transport_close() after vnet_dev_close(). Everything returns 0 or a
 * negative errno, with the reason logged through vnet_set_log().
 * Create the packet pools BEFORE vnet_dev_open(): vhost-user shares the
 * DMA memory that is live when the queues are set up.
 */
#ifndef VNET_LINUX_H
#define VNET_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vnet_transport;

/* ---------------------------------------------------------- vhost-user -- */

/** MAC address of the synthesized config when none is given (locally administered). */
#define VNET_VHOST_USER_DEFAULT_MAC {0x02, 0x76, 0x6e, 0x65, 0x74, 0x01}

/** Options for vnet_vhost_user_open(). Zero fields take the defaults shown. */
struct vnet_vhost_user_opts {
	/** MAC of the synthesized config (a backend without the CONFIG
	 * protocol feature has none): VNET_VHOST_USER_DEFAULT_MAC unless @c mac_set. */
	uint8_t mac[6];
	bool mac_set;          /**< use @c mac */
	uint16_t queue_max;    /**< largest ring offered to the driver (1024) */
	uint32_t timeout_ms;   /**< bound on each reply from the backend (2000) */
	/** Reconnect to the same @p path when the backend goes away: the
	 * device's reset (vnet_dev_recover()) connects again and renegotiates,
	 * at most once per backoff interval (50 ms, doubling up to
	 * @c reconnect_max_ms). false: a backend that went away stays gone. */
	bool reconnect;
	uint32_t reconnect_max_ms; /**< cap of the reconnect backoff (1000) */
	/** Server mode (DPDK virtio_user's server=1): vnet LISTENS on @p path
	 * and the backend connects to it (dpdk-testpmd's net_vhost with
	 * client=1). Open waits for the first backend, at most
	 * @c connect_timeout_ms; when the backend goes away,
	 * vnet_dev_recover() accepts the next one on the same socket (always:
	 * @c reconnect is implied), with the backoff above. A stale socket at
	 * @p path is replaced; any other file there is refused. The socket is
	 * removed at close. */
	bool server;
	uint32_t connect_timeout_ms; /**< server: wait for the first backend (10000) */
};

/** Most queue pairs the vhost-user transport drives (the backend's
 * GET_QUEUE_NUM is clamped to it). */
#define VNET_VHOST_USER_MAX_PAIRS 8

/** What vnet_vhost_user_stats() reports. */
struct vnet_vhost_user_stats {
	uint64_t disconnects;       /**< times the backend was found gone */
	uint64_t reconnects;        /**< reconnections that completed the handshake */
	uint64_t reconnect_tries;   /**< connection attempts made to reconnect (server: accepts tried) */
	uint64_t protocol_features; /**< negotiated on the current connection */
	uint16_t max_pairs;         /**< queue pairs offered to the driver (1 without the MQ protocol feature) */
	uint16_t pairs_enabled;     /**< queue pairs whose rings the backend has enabled */
	uint16_t ctrl_commands;     /**< control-queue commands the transport served itself */
	uint8_t backend_status;     /**< the backend's last GET_STATUS (STATUS protocol feature), else 0 */
	bool connected;             /**< the backend is there now */
};

/**
 * Connect to the vhost-user backend listening on the unix socket @p path
 * (the frontend is the client, as DPDK's virtio_user), take ownership
 * (SET_OWNER) and read its features and protocol features (MQ, REPLY_ACK,
 * CONFIG, STATUS are used when offered). The memory table is sent when the
 * driver sets up its queues. With the MQ protocol feature the transport
 * offers the driver VIRTIO_NET_F_MQ with GET_QUEUE_NUM queue pairs and a
 * control queue it serves itself (the backend gets none): the MQ command
 * enables and disables the pairs' rings at the backend (SET_VRING_ENABLE);
 * other control commands are answered VIRTIO_NET_ERR, and the control
 * features they need are not offered.
 * With @c opts.server the roles of the socket are swapped: vnet listens
 * on @p path and waits for the backend to connect (then as above).
 * @return 0; -ENOENT (no socket at @p path); -ECONNREFUSED (nobody
 * listens there); -ETIMEDOUT / -EPROTO / -ECONNRESET (the backend did not
 * answer, answered wrongly, or hung up); -ENOMEM; -EINVAL. Server mode:
 * -ETIMEDOUT (no backend connected in time: the socket is removed);
 * -EEXIST (@p path is a file that is not a socket: left untouched);
 * -EADDRINUSE (someone listens on @p path already).
 */
int vnet_vhost_user_open(struct vnet_transport **t, const char *path,
                         const struct vnet_vhost_user_opts *opts);

/**
 * Is the backend still there? A non-blocking look at the socket (a
 * syscall: call it periodically, not per burst). vnet_dev_broken() uses it
 * too, through the device status (DEVICE_NEEDS_RESET once it is gone).
 * @return 0 while connected; -ECONNRESET once the backend has gone away
 * (with @c opts.reconnect, until vnet_dev_recover() has connected again);
 * -EINVAL (NULL, or not a vhost-user transport).
 */
int vnet_vhost_user_alive(struct vnet_transport *t);

/**
 * Counters and negotiated state of a vhost-user transport (reconnects,
 * queue pairs, protocol features).
 * @return 0; -EINVAL (NULL, or not a vhost-user transport).
 */
int vnet_vhost_user_stats(struct vnet_transport *t, struct vnet_vhost_user_stats *out);

/* ------------------------------------------------------ PCI, libpciaccess -- */

/** Options for vnet_pciaccess_open(). */
struct vnet_pciaccess_opts {
	/** Exact PCI address "DDDD:BB:DD.F" or "BB:DD.F" of the device.
	 * Required unless the process runs inside a virtual machine (then
	 * NULL picks the first unbound virtio-net function). */
	const char *bdf;
	/** Drive a transitional device (1af4:1000) through its legacy
	 * interface even when it has the modern one (vnet_pci_opts.legacy). */
	int legacy;
};

/**
 * Open a virtio-net PCI function (1af4:1041, or transitional 1af4:1000:
 * legacy ones through I/O BAR0 with libpciaccess's port access, see
 * vnet_pci_open()) through libpciaccess: refuse it when a kernel driver is
 * bound to it (the log names the driver and the unbind command), map its
 * BARs, enable bus mastering, and switch the process's DMA memory to
 * pinned hugepages addressed by physical address (/proc/self/pagemap).
 * Never touches a device the caller did not name unless the process runs
 * inside a VM. Needs root.
 * @return 0; -EPERM (not root, or no VM and no @c bdf); -ENODEV (no such
 * device); -EBUSY (a kernel driver owns it); -ENOMEM (no hugepages:
 * `echo 64 > /proc/sys/vm/nr_hugepages`); or as vnet_pci_open().
 */
int vnet_pciaccess_open(struct vnet_transport **t, const struct vnet_pciaccess_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
