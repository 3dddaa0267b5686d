/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * errno for the bare-metal C library. The numbers are Linux's, so that a
 * -errno from the library means the same thing on bare metal and in a Linux
 * process (vnet_strerror() has one table for both).
 */
#ifndef VNET_LIBC_ERRNO_H
#define VNET_LIBC_ERRNO_H

/* One core, no threads: a plain global is enough. */
extern int errno;

#define EPERM         1
#define ENOENT        2
#define EIO           5
#define EAGAIN        11
#define EWOULDBLOCK   EAGAIN
#define ENOMEM        12
#define EFAULT        14
#define EBUSY         16
#define EEXIST        17
#define ENODEV        19
#define EINVAL        22
#define ENOSPC        28
#define ERANGE        34
#define ENOSYS        38
#define EPROTO        71
#define EOVERFLOW     75
#define EMSGSIZE      90
#define ENOTSUP       95
#define EOPNOTSUPP    ENOTSUP
#define EADDRINUSE    98
#define ENETDOWN      100
#define ECONNRESET    104
#define ENOBUFS       105
#define ENOTCONN      107
#define ETIMEDOUT     110
#define ECONNREFUSED  111
#define EHOSTUNREACH  113
#define EALREADY      114
#define EINPROGRESS   115
#define ECANCELED     125

#endif
