/* SPDX-License-Identifier: BSD-3-Clause */
/* Only the types: there is no process, file or system call here. */
#ifndef VNET_LIBC_UNISTD_H
#define VNET_LIBC_UNISTD_H

#include <sys/types.h>

#endif
