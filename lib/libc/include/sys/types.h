/* SPDX-License-Identifier: BSD-3-Clause */
/* The few POSIX types portable code (lwIP) expects. */
#ifndef VNET_LIBC_SYS_TYPES_H
#define VNET_LIBC_SYS_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
typedef long off_t;

#endif
