/* SPDX-License-Identifier: BSD-3-Clause */
/* Version, error strings and the log sink. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/platform.h"
#include <vnet/vnet.h>

#define STR_(x) #x
#define STR(x) STR_(x)

const char *vnet_version(void)
{
	return STR(VNET_VERSION_MAJOR) "." STR(VNET_VERSION_MINOR) "." STR(VNET_VERSION_PATCH);
}

const char *vnet_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0: return "success";
	case EINVAL: return "invalid argument";
	case ENOMEM: return "out of memory";
	case ENOBUFS: return "no free buffers in the pool";
	case ETIMEDOUT: return "the device did not answer in time";
	case ENODEV: return "no such device or queue";
	case ENOTSUP: return "the device lacks a required feature";
	case EPROTO: return "the device refused the negotiated features";
	case EIO: return "device error (DEVICE_NEEDS_RESET or FAILED)";
	case EBUSY: return "resource busy (buffers still in use)";
	case EAGAIN: return "try again (the device configuration kept changing)";
	case ENOENT: return "not found";
	case ERANGE: return "value out of range";
	case ENOSPC: return "no space (ring or queue full)";
	case ECONNREFUSED: return "connection refused";
	case ECONNRESET: return "connection reset";
	case EADDRINUSE: return "address in use";
	case ENOTCONN: return "not connected";
	case EHOSTUNREACH: return "host unreachable";
	case ENETDOWN: return "network is down (link down)";
	case EMSGSIZE: return "message too long";
	case EINPROGRESS: return "operation in progress";
	case EALREADY: return "operation already in progress";
	case EPERM: return "operation not permitted";
	case ECANCELED: return "operation canceled";
	case ENOSYS: return "not implemented here";
	case EOVERFLOW: return "value too large";
	case EEXIST: return "already exists";
	case EFAULT: return "bad address";
	case E2BIG: return "too many (more memory regions than the device maps)";
	default: return "unknown error";
	}
}

static vnet_log_fn log_fn;
static void *log_arg;
static enum vnet_log_level log_max = VNET_LOG_WARN;

void vnet_set_log(vnet_log_fn fn, void *arg, enum vnet_log_level max)
{
	log_fn = fn;
	log_arg = arg;
	log_max = max;
}

void vnet_log(int level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!log_fn || level > (int)log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn((enum vnet_log_level)level, msg, log_arg);
}

#if VNET_STAGE_CYCLES
#include "base/stage.h"
uint64_t vnet_stage_cycles[VNET_STAGE__COUNT];
uint64_t vnet_stage_calls[VNET_STAGE__COUNT];
#endif
